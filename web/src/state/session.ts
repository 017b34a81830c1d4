import { MeQuery } from "../api/documents.js";
import { GqlClient, GqlError } from "../api/gql-client.js";
import type { ResultOf } from "../graphql.js";

export type Me = ResultOf<typeof MeQuery>["me"];
export type Role = Me["role"];

const STORAGE_KEY = "trendgate.apiKey";

export interface Session {
  me: Me;
  client: GqlClient;
}

/** Checks the key with `me` and keeps it for this tab only (session storage). */
export async function signIn(apiKey: string): Promise<Session> {
  const key = apiKey.trim();
  if (!key) throw new GqlError("BAD_USER_INPUT", "Enter an API key.");
  const client = new GqlClient(key);
  try {
    const { me } = await client.request(MeQuery);
    sessionStorage.setItem(STORAGE_KEY, key);
    return { me, client };
  } catch (error) {
    client.close();
    if (
      error instanceof GqlError &&
      (error.code === "UNAUTHENTICATED" || error.code === "FORBIDDEN")
    ) {
      throw new GqlError(
        error.code,
        "This API key was not accepted. Check it, or ask an operator for a new one.",
      );
    }
    throw error;
  }
}

export function storedKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function signOut(session: Session | undefined): void {
  sessionStorage.removeItem(STORAGE_KEY);
  session?.client.close();
}
