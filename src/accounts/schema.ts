// Input rules for accounts: what an email and a password must be before they reach the store, and what a
// sign-in form may send (bounded, so a password check never hashes a megabyte).
import { z } from 'zod';

export const newAccountSchema = z.object({
  email: z.email().max(254).transform((email) => email.trim()),
  // NIST SP 800-63B §3.1.1.2: at least 8 characters; a generous maximum keeps hashing bounded.
  password: z.string().min(8, 'password must have at least 8 characters').max(256),
  isAdmin: z.boolean().default(false),
});
export type NewAccount = z.input<typeof newAccountSchema>;

/** Every sign-in form's fields (the authorization flow's, /account's, the console's): absent is empty, and refused as such. */
export const signInFormSchema = z.object({ email: z.string().max(254).default(''), password: z.string().max(256).default('') });
export type SignInForm = z.infer<typeof signInFormSchema>;

export interface Account {
  id: string;
  email: string;
  isAdmin: boolean;
  disabled: boolean;
}

/** An account as operators see it: when it was created, when it last signed in, how many live grants it gave. */
export interface AccountActivity extends Account {
  createdAt: Date;
  lastSignInAt: Date | undefined;
  grants: number;
}
