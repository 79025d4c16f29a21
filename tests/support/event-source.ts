/**
 * A minimal EventSource over fetch, for tRPC's httpSubscriptionLink in Node 20 (which has no
 * global EventSource without --experimental-eventsource). Enough of the standard for tRPC:
 * named events, data lines, ids, open/error, close; no automatic reconnect.
 */
type Listener = (event: { type: string; data?: string; lastEventId?: string }) => void;

export class FetchEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSED = 2;
  readyState = 0;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly abort = new AbortController();

  constructor(readonly url: string, init?: { headers?: Record<string, string> }) {
    void this.run(init?.headers ?? {});
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  close(): void {
    this.readyState = 2;
    this.abort.abort();
  }

  private emit(type: string, event: { data?: string; lastEventId?: string } = {}): void {
    for (const l of this.listeners.get(type) ?? []) l({ type, ...event });
  }

  private async run(headers: Record<string, string>): Promise<void> {
    try {
      const res = await fetch(this.url, { headers: { accept: 'text/event-stream', ...headers }, signal: this.abort.signal });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      this.readyState = 1;
      this.emit('open');
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
          let type = 'message';
          let id: string | undefined;
          const data: string[] = [];
          for (const line of block.split(/\r?\n/)) {
            if (line.startsWith(':')) continue;
            const [field, ...rest] = line.split(':');
            const value = rest.join(':').replace(/^ /, '');
            if (field === 'event') type = value;
            else if (field === 'data') data.push(value);
            else if (field === 'id') id = value;
          }
          if (data.length > 0 || type !== 'message') this.emit(type, { data: data.join('\n'), lastEventId: id });
        }
      }
      this.readyState = 2;
    } catch {
      if (this.readyState === 2) return; // closed by us
      this.readyState = 2;
      this.emit('error');
    }
  }
}
