import { useId, useState, type FormEvent } from "react";
import type { Accepted } from "../../api/types.ts";
import { navigate } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { ErrorNote } from "../../ui/components.tsx";
import { useAction } from "../../ui/hooks.ts";

const EMPTY = { to: "", from: "", campaign: "", priority: "normal", notBefore: "", calleeTimezone: "" };

/**
 * Places a dial with POST /v1/dials. The API validates (numbers, time zone, the do-not-call list):
 * its refusal is shown as it gave it, beside the form.
 */
export const DialForm = () => {
  const { api } = useSession();
  const id = useId();
  const [values, setValues] = useState(EMPTY);
  const place = useAction(async () => {
    const body = {
      to: values.to,
      priority: values.priority,
      ...(values.from ? { from: values.from } : {}),
      ...(values.campaign ? { campaign: values.campaign } : {}),
      ...(values.notBefore ? { notBefore: new Date(values.notBefore).toISOString() } : {}),
      ...(values.calleeTimezone ? { calleeTimezone: values.calleeTimezone } : {}),
    };
    const { body: accepted } = await api.send<Accepted>("POST", "/v1/dials", body);
    navigate(`/console/dials/${accepted.id}`);
    return accepted;
  });
  const field = (name: keyof typeof EMPTY, label: string, props: Record<string, unknown> = {}) => (
    <div className="field">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      <input
        id={`${id}-${name}`}
        name={name}
        value={values[name]}
        onChange={(event) => setValues({ ...values, [name]: event.target.value })}
        aria-describedby={place.error ? `${id}-error` : undefined}
        {...props}
      />
    </div>
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void place.run();
  };

  return (
    <form className="dial-form" aria-label="Place a dial" onSubmit={submit} noValidate>
      {field("to", "To (international number)", { type: "tel", placeholder: "+14155550001", autoComplete: "off", required: true, "aria-invalid": place.error ? true : undefined })}
      {field("from", "From (caller id, optional)", { type: "tel", autoComplete: "off" })}
      {field("campaign", "Campaign (optional)")}
      <div className="field">
        <label htmlFor={`${id}-priority`}>Priority</label>
        <select id={`${id}-priority`} value={values.priority} onChange={(event) => setValues({ ...values, priority: event.target.value })}>
          <option value="high">high</option>
          <option value="normal">normal</option>
          <option value="low">low</option>
        </select>
      </div>
      {field("notBefore", "Not before (optional)", { type: "datetime-local" })}
      {field("calleeTimezone", "Callee time zone (optional)", { placeholder: "America/New_York" })}
      <div className="actions">
        <button type="submit" disabled={place.running}>
          {place.running ? "Placing…" : "Place dial"}
        </button>
      </div>
      <div id={`${id}-error`}>
        <ErrorNote error={place.error} prefix="The dial was refused" />
      </div>
    </form>
  );
};
