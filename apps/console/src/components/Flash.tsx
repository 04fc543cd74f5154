/** Where a successful action says so; a polite live region, so screen readers hear it too. */
export function Flash({ message }: { message: string | null }) {
  return (
    <p className="flash" role="status" aria-live="polite">
      {message ?? ""}
    </p>
  );
}
