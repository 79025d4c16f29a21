/** Copies a text to the clipboard and says so for two seconds. */
import { createSignal } from 'solid-js';

export function CopyButton(props: { text: string; label?: string }) {
  const [copied, setCopied] = createSignal<'yes' | 'no' | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(props.text);
      setCopied('yes');
    } catch {
      setCopied('no'); // no clipboard permission (e.g. plain http): the text is selectable beside
    }
    setTimeout(() => setCopied(null), 2000);
  }
  return (
    <button type="button" class="copy" onClick={copy}>
      {copied() === 'yes' ? 'Copied' : copied() === 'no' ? 'Select and copy by hand' : props.label ?? 'Copy'}
    </button>
  );
}
