/** Whether a peer address is this machine (IPv4 127/8, IPv6 ::1, or IPv4-mapped 127/8). */
export function isLoopbackAddress(address: string | null): boolean {
  if (!address) return false;
  const bare = address.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}
