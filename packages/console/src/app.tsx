import { useCallback, useEffect, useState } from "react";
import { createApi, type ApiError } from "./api/client.ts";
import type { Me } from "./api/types.ts";
import { CallPage } from "./pages/calls/call-page.tsx";
import { CallsPage } from "./pages/calls/calls-page.tsx";
import { DialPage } from "./pages/dials/dial-page.tsx";
import { DialsPage } from "./pages/dials/dials-page.tsx";
import { OperationsPage } from "./pages/operations/operations-page.tsx";
import { SignIn } from "./pages/sign-in.tsx";
import { Link, useLocation, type Route } from "./router.tsx";
import { forgetKey, SessionContext, storedKey, storeKey, type Session } from "./session.tsx";

export const App = () => {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => storedKey() !== null);
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((reason: string | null = null) => {
    forgetKey();
    setSession(null);
    setNotice(reason);
  }, []);
  const onRefused = useCallback((error: ApiError) => signOut(`The API refused the key (${error.code}): sign in again.`), [signOut]);

  // The key is checked with GET /v1/me; the session signs out by itself when the API refuses it later.
  const signIn = useCallback(
    async (key: string) => {
      // Refused at sign-in, the form says why; refused later, the console signs out.
      let signedIn = false;
      const api = createApi(key, (error) => signedIn && onRefused(error));
      const me = await api.get<Me>("/v1/me");
      signedIn = true;
      storeKey(key);
      setNotice(null);
      setSession({ api, me, signOut: () => signOut() });
    },
    [onRefused, signOut],
  );

  // A reload of the tab signs in again with the key it kept.
  useEffect(() => {
    const key = storedKey();
    if (key === null) return;
    signIn(key)
      .catch(() => forgetKey())
      .finally(() => setRestoring(false));
  }, [signIn]);

  if (restoring) return null;
  if (!session) return <SignIn onSignIn={signIn} notice={notice} />;
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} />
    </SessionContext.Provider>
  );
};

const TITLES: Record<Route["page"], string> = { calls: "Calls", call: "Call", dials: "Dials", dial: "Dial", operations: "Operations", "not-found": "Not found" };

const Shell = ({ session }: { session: Session }) => {
  const { route, query, href } = useLocation();
  const { me } = session;

  // A new page: its title, and focus on its heading so that a screen reader starts there.
  useEffect(() => {
    document.title = `${TITLES[route.page]} · Callflow console`;
    document.querySelector<HTMLElement>("main h1")?.focus({ preventScroll: true });
  }, [route.page, href]);

  const section = route.page === "call" ? "calls" : route.page === "dial" ? "dials" : route.page;
  const navLink = (to: string, name: string, page: string) => (
    <li>
      <Link to={to} aria-current={section === page ? "page" : undefined}>
        {name}
      </Link>
    </li>
  );
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Callflow console</span>
        <nav aria-label="Console">
          <ul>
            {navLink("/console/calls", "Calls", "calls")}
            {navLink("/console/dials", "Dials", "dials")}
            {me.admin ? navLink("/console/operations", "Operations", "operations") : null}
          </ul>
        </nav>
        <div className="who">
          <span title={`tenant ${me.tenant.id}`}>{me.tenant.name}</span>
          <span className="muted" title={`key ${me.key.name}`}>
            {me.key.prefix}… {me.admin ? "(admin)" : null}
          </span>
          <button type="button" className="link-button" onClick={session.signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} query={query} admin={me.admin} />
      </main>
    </>
  );
};

const Page = ({ route, query, admin }: { route: Route; query: URLSearchParams; admin: boolean }) => {
  switch (route.page) {
    case "calls":
      return <CallsPage query={query} />;
    case "call":
      return <CallPage id={route.id} />;
    case "dials":
      return <DialsPage query={query} />;
    case "dial":
      return <DialPage id={route.id} />;
    case "operations":
      return admin ? <OperationsPage section={route.section} /> : <NeedsAdmin />;
    case "not-found":
      return (
        <>
          <h1 tabIndex={-1}>Not found</h1>
          <p>
            There is no such page. <Link to="/console/calls">See the calls</Link>.
          </p>
        </>
      );
  }
};

const NeedsAdmin = () => (
  <>
    <h1 tabIndex={-1}>Operations</h1>
    <p role="alert">The operations pages need an API key with the admin scope; this key does not have it.</p>
  </>
);
