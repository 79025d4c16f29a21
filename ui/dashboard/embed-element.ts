/**
 * <almanac-dashboard token="emb1.…" [theme="light|dark|auto"] [brand="#RRGGBB"] [base="https://stats.example"]>
 *
 * Served as /embed/almanac-dashboard.js (a classic script; no module needed). Creates the
 * iframe of /embed/dashboard and sizes it to the dashboard's height, which the dashboard posts.
 * `base` defaults to the origin this script was loaded from.
 */
const scriptBase = (document.currentScript as HTMLScriptElement | null)?.src ? new URL((document.currentScript as HTMLScriptElement).src).origin : location.origin;

class AlmanacDashboard extends HTMLElement {
  static observedAttributes = ['token', 'theme', 'brand', 'base'];
  private frame: HTMLIFrameElement | undefined;
  private readonly onMessage = (e: MessageEvent) => {
    if (!this.frame || e.source !== this.frame.contentWindow) return;
    const data = e.data as { almanac?: string; height?: number };
    if (data?.almanac === 'dashboard-height' && typeof data.height === 'number') this.frame.style.height = `${Math.ceil(data.height)}px`;
  };

  connectedCallback(): void {
    window.addEventListener('message', this.onMessage);
    this.update();
  }
  disconnectedCallback(): void {
    window.removeEventListener('message', this.onMessage);
  }
  attributeChangedCallback(): void {
    if (this.isConnected) this.update();
  }

  private update(): void {
    const token = this.getAttribute('token');
    if (!token) return;
    const url = new URL('/embed/dashboard', this.getAttribute('base') ?? scriptBase);
    url.searchParams.set('token', token);
    for (const name of ['theme', 'brand']) {
      const v = this.getAttribute(name);
      if (v) url.searchParams.set(name, v);
    }
    if (!this.frame) {
      this.frame = document.createElement('iframe');
      this.frame.title = 'Analytics dashboard';
      this.frame.setAttribute('loading', 'lazy');
      this.frame.referrerPolicy = 'no-referrer';
      Object.assign(this.frame.style, { width: '100%', height: '900px', border: '0', display: 'block' });
      const root = this.attachShadow({ mode: 'open' });
      root.appendChild(this.frame);
    }
    if (this.frame.src !== url.href) this.frame.src = url.href;
  }
}

if (!customElements.get('almanac-dashboard')) customElements.define('almanac-dashboard', AlmanacDashboard);
