/**
 * Makes a directory unwritable for the test process, root included: `chattr +i` when we are
 * root (mode bits do not stop root), mode 0555 otherwise. Returns the undo. Throws when the
 * directory is still writable afterwards, so a test never silently checks nothing.
 */
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function writable(dir: string): boolean {
  const probe = join(dir, `.write-probe-${process.pid}`);
  try {
    writeFileSync(probe, "");
    rmSync(probe);
    return true;
  } catch {
    return false;
  }
}

export function makeUnwritable(dir: string): () => void {
  const root = process.getuid?.() === 0;
  if (root) {
    const set = Bun.spawnSync(["chattr", "+i", dir]);
    if (set.exitCode !== 0) throw new Error(`chattr +i ${dir} failed: ${set.stderr.toString()}`);
  } else {
    chmodSync(dir, 0o555);
  }
  const undo = () => {
    if (root) Bun.spawnSync(["chattr", "-i", dir]);
    else chmodSync(dir, 0o755);
  };
  if (writable(dir)) {
    undo();
    throw new Error(`could not make ${dir} unwritable`);
  }
  return undo;
}
