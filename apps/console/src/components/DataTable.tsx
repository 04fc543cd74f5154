import type { ReactNode } from "react";

interface Props {
  className: string;
  /** Read out by screen readers; hidden on screen, where the section heading says it. */
  caption: string;
  /** Column headers; `false` leaves a column out (e.g. actions the caller may not take). */
  headers: (string | false)[];
  /** The rows. */
  children: ReactNode;
}

/** Every list in the console: one table shape, so they all read the same to a screen reader. */
export function DataTable({ className, caption, headers, children }: Props) {
  return (
    <table className={className}>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {headers.map(
            (header) =>
              header !== false && (
                <th key={header} scope="col">
                  {header}
                </th>
              ),
          )}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
