import { useId, useState, type FormEvent } from "react";
import { ApiError } from "../api/client.ts";

const messageOf = (error: unknown): string => {
  if (error instanceof ApiError) {
    if (error.status === 401) return "That API key is unknown or revoked. Check it and try again.";
    if (error.status === 0) return error.message;
    return `The API answered ${error.status} ${error.code}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
};

/** The one way in: an API key of the tenant, checked against the API before anything is shown. */
export const SignIn = ({ onSignIn, notice }: { onSignIn: (key: string) => Promise<void>; notice: string | null }) => {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const id = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError("Enter an API key.");
      return;
    }
    setChecking(true);
    setError(null);
    try {
      await onSignIn(trimmed);
    } catch (failure) {
      setError(messageOf(failure));
      setChecking(false);
    }
  };

  return (
    <main id="main" className="sign-in">
      <h1>Callflow console</h1>
      <p>Calls, dials and operations of your tenant, through the Callflow API.</p>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <form onSubmit={(event) => void submit(event)} noValidate>
        <label htmlFor={`${id}-key`}>API key</label>
        <input
          id={`${id}-key`}
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(event) => setKey(event.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={`${id}-help${error ? ` ${id}-error` : ""}`}
          autoFocus
        />
        <p id={`${id}-help`} className="muted">
          Kept in this tab&apos;s session storage until you sign out or close the tab; sent only as the Authorization header.
        </p>
        {error ? (
          <p id={`${id}-error`} className="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={checking}>
          {checking ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
};
