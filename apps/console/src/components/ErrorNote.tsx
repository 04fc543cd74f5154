import { describeError, type ShownError } from "../api.ts";

/** The API's own message and the request id to quote to an operator (it is in the server's logs). */
export function ErrorNote({ error }: { error: unknown }) {
  const shown = isShown(error) ? error : describeError(error);
  return (
    <div className="error" role="alert">
      <strong>{shown.status ? `${shown.status} ${shown.code ?? ""}` : (shown.code ?? "Error")}</strong>:{" "}
      {shown.message}
      {shown.requestId && (
        <span className="request-id">
          {" "}
          (request id <code>{shown.requestId}</code>)
        </span>
      )}
    </div>
  );
}

function isShown(v: unknown): v is ShownError {
  return !!v && typeof v === "object" && "requestId" in v && "message" in v;
}
