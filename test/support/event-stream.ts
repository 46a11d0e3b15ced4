// A reader of GET /api/v1/events as the console reads it: fetch() streaming with the token in the
// Authorization header, the text/event-stream format parsed as it arrives.

export interface ReceivedEvent {
  event: string;
  data: unknown;
}

export class EventStream {
  readonly events: ReceivedEvent[] = [];
  /** Lines other than events and blank ones, e.g. "retry: 3000" and ": ping". */
  readonly other: string[] = [];
  ended = false;
  private readonly abort = new AbortController();
  private waiters: (() => void)[] = [];
  private done!: Promise<void>;

  private constructor(readonly response: Response) {}

  static async open(url: string, token: string): Promise<EventStream> {
    const controller = new AbortController();
    const response = await fetch(`${url}/api/v1/events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    const stream = new EventStream(response);
    stream.abort.signal.addEventListener('abort', () => controller.abort());
    stream.done = stream.read();
    return stream;
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of this.response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        this.wake();
      }
    } catch {
      // aborted by close()
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private parse(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
      else this.other.push(line);
    }
    if (data.length > 0) this.events.push({ event, data: JSON.parse(data.join('\n')) });
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Waits until `predicate` holds over what arrived (checked whenever more arrives). */
  async until(predicate: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (this.ended) throw new Error(`the stream ended before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once the hub has ended the stream. */
  closedByHub(): Promise<void> {
    return this.done;
  }

  of<T>(event: string): T[] {
    return this.events.filter((e) => e.event === event).map((e) => e.data as T);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
