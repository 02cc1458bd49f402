// What every admin route module is given and registers through: the dependencies, the admin behind the
// request, and the `page` / `api` registrar (routes.ts builds it, so no route exists without its admin check).
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../config.ts';
import type { LoginThrottle } from '../accounts/login-throttle.ts';
import type { Db } from '../db/db.ts';
import type { Secrets } from '../secrets.ts';
import type { AdminActor } from './actor.ts';

export interface AdminDeps {
  provider: Provider; db: Db; config: Config; secrets: Secrets; mountPath: string;
  /** The console's sign-in form shares every form's limits and count (app.ts). */
  loginThrottle: LoginThrottle;
  /** Makes this process sign with the current key set now (others follow within KEY_REFRESH_SECONDS). */
  refreshSigningKeys: () => Promise<unknown>;
}

/** The admin behind a request that passed `page` or `api`: who they are for the audit trail. */
export interface AdminRequest { actor: AdminActor; email: string | undefined }
export const adminOf = (ctx: Koa.Context) => ctx.state.admin as AdminRequest;

export type AdminHandler = (ctx: Koa.Context, admin: AdminRequest) => Promise<void>;
type Method = 'get' | 'post' | 'put' | 'delete';

export interface AdminRoutes {
  /** A console page or form action: admins only (anonymous → the sign-in page, others → 403). */
  page(method: 'get' | 'post', path: string, handler: AdminHandler): void;
  /** A JSON API route: admin API bearer tokens only; JSON errors with stable codes. */
  api(method: Method, path: string, handler: AdminHandler): void;
}
