/**
 * A chat or text completion has one content string, but the model can write several
 * messages in one turn: they are kept apart by a blank line instead of running into each
 * other ("First.Second."). Codex names each message's item; text without an item name (test
 * and benchmark backends) counts as one message.
 */
export class MessageJoin {
  #last: string | undefined;

  /** What goes before text from message `item`: a blank line when it starts a message after another. */
  before(item: string | undefined): string {
    const gap = item !== this.#last && this.#last !== undefined ? "\n\n" : "";
    this.#last = item;
    return gap;
  }
}
