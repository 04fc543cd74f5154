import type { ButtonHTMLAttributes } from "react";

/** A button that is disabled, and says so, while its action is in flight. */
export function ActionButton({
  pending,
  pendingLabel,
  children,
  disabled,
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { pending: boolean; pendingLabel?: string }) {
  return (
    <button type="button" {...rest} disabled={disabled || pending} aria-busy={pending}>
      {pending ? (pendingLabel ?? "Working…") : children}
    </button>
  );
}
