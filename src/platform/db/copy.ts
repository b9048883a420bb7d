// COPY … TO STDOUT over a pg client, handing each CopyData message to a synchronous callback as
// it arrives. The callback runs while the socket is not being read, so a slow consumer slows the
// server down (TCP back-pressure) instead of buffering the whole result in memory.
import type pg from 'pg';

interface Connection {
  query(text: string): void;
}

class CopyOut {
  private error: Error | undefined;
  private settle!: { resolve: () => void; reject: (e: Error) => void };
  readonly done: Promise<void>;

  constructor(
    readonly text: string,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  // The pg client's submittable protocol (what pg-copy-streams implements too).
  submit(connection: Connection): void {
    connection.query(this.text);
  }
  handleCopyData(msg: { chunk: Buffer }): void {
    if (this.error) return;
    try {
      this.onData(msg.chunk);
    } catch (e) {
      // Keep reading to the end of the COPY (the connection must get back to ReadyForQuery).
      this.error = e instanceof Error ? e : new Error(String(e));
    }
  }
  handleCommandComplete(): void {}
  handleError(e: Error): void {
    this.error ??= e;
  }
  handleReadyForQuery(): void {
    if (this.error) this.settle.reject(this.error);
    else this.settle.resolve();
  }
}

/** Runs a `COPY (…) TO STDOUT` statement (no parameters: COPY takes none) and feeds its data to onData. */
export async function copyOut(client: pg.ClientBase, text: string, onData: (chunk: Buffer) => void): Promise<void> {
  const q = new CopyOut(text, onData);
  (client as unknown as { query(q: CopyOut): void }).query(q);
  await q.done;
}
