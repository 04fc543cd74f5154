import type { Principal } from "@agentex/client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ActionButton } from "../../components/ActionButton.tsx";
import { ErrorNote } from "../../components/ErrorNote.tsx";
import { useSession } from "../../session-context.tsx";

export function PrincipalRow({
  principal: p,
  selected,
  onSelect,
  isMe,
}: {
  principal: Principal;
  selected: boolean;
  onSelect: () => void;
  isMe: boolean;
}) {
  const { client } = useSession();
  const queryClient = useQueryClient();
  const disabled = p.disabled_at !== null;
  const toggle = useMutation({
    mutationFn: () =>
      disabled
        ? client.principals.enable.mutate({ principal_id: p.id })
        : client.principals.disable.mutate({ principal_id: p.id }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["principals"] }),
  });
  return (
    <tr data-principal={p.name} aria-selected={selected}>
      <td>{p.name}</td>
      <td>{p.kind}</td>
      <td>
        {[p.admin && "admin", p.can_create_agents && "creates agents"].filter(Boolean).join(", ") || "—"}
      </td>
      <td>
        {disabled ? (
          <span className="badge badge-failed">disabled</span>
        ) : (
          <span className="badge badge-ready">active</span>
        )}
      </td>
      <td>
        <button type="button" onClick={onSelect} aria-pressed={selected}>
          Tokens
        </button>{" "}
        {!isMe && (
          <ActionButton
            pending={toggle.isPending}
            onClick={() => toggle.mutate()}
            aria-label={`${disabled ? "Enable" : "Disable"} ${p.name}`}
          >
            {disabled ? "Enable" : "Disable"}
          </ActionButton>
        )}
        {toggle.error && <ErrorNote error={toggle.error} />}
      </td>
    </tr>
  );
}
