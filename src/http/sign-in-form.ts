// The one handler behind every sign-in form (the authorization flow's, /account's, the console's): reads the
// form, calls the sign-in service, and shows a refusal on the form again with its status and Retry-After.
import type Koa from 'koa';
import { signInFormSchema, type Account } from '../accounts/schema.ts';
import { signIn, type SignInDeps, type SignInPurpose } from '../accounts/sign-in.ts';
import { AppError, describeError, type AppErrorCode } from '../errors.ts';
import { requestFacts } from './request-facts.ts';

/** What a form shows again after a refusal: the email as typed (never the password), and why. */
export interface RefusedSignIn { email: string; error: string }

// The refusals a person fixes on the form itself; any other error (not_admin on the console included) goes on.
const SHOWN_ON_THE_FORM = new Set<AppErrorCode>(['bad_credentials', 'rate_limited', 'sso_only']);

/**
 * The signed-in account, or undefined when the form was answered again: `renderAgain`'s page with the refusal's
 * status (401, or 429 with Retry-After, RFC 6585 §4). Starting the session is the caller's: each form has its own.
 */
export async function submitSignInForm(
  ctx: Koa.Context, deps: SignInDeps, purpose: SignInPurpose, renderAgain: (refused: RefusedSignIn) => Promise<string>,
): Promise<Account | undefined> {
  const form = signInFormSchema.parse(ctx.request.body ?? {});
  try {
    return await signIn(deps, form, requestFacts(ctx), purpose);
  } catch (error) {
    if (!(error instanceof AppError && SHOWN_ON_THE_FORM.has(error.code))) throw error;
    const refused = describeError(error);
    const page = await renderAgain({ email: form.email, error: refused.description });
    if (refused.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(refused.retryAfterSeconds));
    ctx.status = refused.status;
    ctx.body = page;
    return undefined;
  }
}
