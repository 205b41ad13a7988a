import { createContext, useContext } from "react";
import type { Api } from "./api/client.ts";
import type { Me } from "./api/types.ts";

/**
 * The signed-in key lives in session storage: it survives a reload of the tab, not the tab's closing,
 * and is never put in a URL. Whoever the key is comes from GET /v1/me.
 */
const STORAGE_KEY = "callflow.console.apiKey";

export const storedKey = (): string | null => sessionStorage.getItem(STORAGE_KEY);
export const storeKey = (key: string): void => sessionStorage.setItem(STORAGE_KEY, key);
export const forgetKey = (): void => sessionStorage.removeItem(STORAGE_KEY);

export interface Session {
  api: Api;
  me: Me;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export const useSession = (): Session => {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in console");
  return session;
};
