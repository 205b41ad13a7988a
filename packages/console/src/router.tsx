import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from "react";

/** The console's pages, by URL under /console. Filters live in the query string, so a view can be shared. */
export type Route =
  | { page: "calls" }
  | { page: "call"; id: string }
  | { page: "dials" }
  | { page: "dial"; id: string }
  | { page: "operations"; section: OperationsSection }
  | { page: "not-found" };

export type OperationsSection = "overview" | "stuck" | "dead-letters" | "audit";

export const BASE = "/console";

export const routeOf = (pathname: string): Route => {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const [first, second, ...rest] = parts;
  if (rest.length > 0) return { page: "not-found" };
  if (first === undefined || (first === "calls" && second === undefined)) return { page: "calls" };
  if (first === "calls") return { page: "call", id: second! };
  if (first === "dials") return second === undefined ? { page: "dials" } : { page: "dial", id: second };
  if (first === "operations") {
    const section = second ?? "overview";
    if (section === "overview" || section === "stuck" || section === "dead-letters" || section === "audit") return { page: "operations", section };
  }
  return { page: "not-found" };
};

const NAVIGATED = "callflow:navigated";

export const navigate = (to: string, options: { replace?: boolean } = {}): void => {
  if (options.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.dispatchEvent(new Event(NAVIGATED));
};

/** The current location; re-renders on navigation, back and forward. */
export const useLocation = (): { route: Route; query: URLSearchParams; href: string } => {
  const [href, setHref] = useState(() => location.pathname + location.search);
  useEffect(() => {
    const update = () => setHref(location.pathname + location.search);
    window.addEventListener("popstate", update);
    window.addEventListener(NAVIGATED, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(NAVIGATED, update);
    };
  }, []);
  const url = new URL(href, location.origin);
  return { route: routeOf(url.pathname), query: url.searchParams, href };
};

/** An ordinary link (open in a new tab works) that navigates within the page on a plain click. */
export const Link = ({ to, onClick, ...props }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) => {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={follow} {...props} />;
};
