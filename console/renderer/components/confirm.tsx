/**
 * A button for a destructive action: it opens a confirmation dialog that says what will happen;
 * with `typeToConfirm`, the admin must type that text (e.g. the tenant's name) first.
 */
import { createSignal, Show, type JSX } from 'solid-js';

export interface ConfirmButtonProps {
  label: string;
  title: string;
  /** What will happen, in plain words. */
  message: JSX.Element;
  confirmLabel?: string;
  typeToConfirm?: string;
  disabled?: boolean;
  onConfirm: (typed: string) => void | Promise<void>;
}

export function ConfirmButton(props: ConfirmButtonProps) {
  const [open, setOpen] = createSignal(false);
  const [typed, setTyped] = createSignal('');
  const ready = () => !props.typeToConfirm || typed() === props.typeToConfirm;
  async function confirm() {
    setOpen(false);
    await props.onConfirm(typed());
    setTyped('');
  }
  return (
    <>
      <button type="button" class="danger" disabled={props.disabled} onClick={() => setOpen(true)}>{props.label}</button>
      <Show when={open()}>
        <div class="modal-backdrop">
          <div class="modal" role="dialog" aria-modal="true" aria-label={props.title}>
            <h3>{props.title}</h3>
            <p>{props.message}</p>
            <Show when={props.typeToConfirm}>
              <label>
                Type <code>{props.typeToConfirm}</code> to confirm
                <input name="confirm-text" value={typed()} onInput={(e) => setTyped(e.currentTarget.value)} autofocus />
              </label>
            </Show>
            <div class="modal-actions">
              <button type="button" onClick={() => { setOpen(false); setTyped(''); }}>Cancel</button>
              <button type="button" class="danger" disabled={!ready()} onClick={confirm}>{props.confirmLabel ?? props.label}</button>
            </div>
          </div>
        </div>
      </Show>
    </>
  );
}
