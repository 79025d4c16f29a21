/** A labelled progress bar (a native <progress>, so no inline styles under the strict CSP). */
import { percent } from '../format.ts';

export function ProgressBar(props: { done: number; total: number; label?: string }) {
  const pct = () => percent(props.done, props.total);
  return (
    <div class="progress" data-percent={pct()}>
      <progress max={100} value={pct()} aria-label={props.label ?? 'progress'} />
      <span class="progress-label">{pct()} %</span>
    </div>
  );
}
