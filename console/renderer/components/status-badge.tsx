/** A small coloured badge for a state word (active, paused, running, up, down ...). */
export function StatusBadge(props: { status: string }) {
  return <span class={`badge badge-${props.status.replace(/[^a-z_-]/gi, '')}`}>{props.status}</span>;
}
