/** An API error as a readable message (headline + what to do). */
import { Show } from 'solid-js';
import { readableError } from '../errors.ts';

export function ErrorNote(props: { error: unknown }) {
  const readable = () => (props.error ? readableError(props.error) : null);
  return (
    <Show when={readable()}>
      {(r) => (
        <div class="error-note" role="alert" data-code={r().code}>
          <strong>{r().headline}</strong> <span>{r().detail}</span>
        </div>
      )}
    </Show>
  );
}
