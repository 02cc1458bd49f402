// Input rules for accounts: what an email and a password must be before they reach the store.
import { z } from 'zod';

export const newAccountSchema = z.object({
  email: z.email().max(254).transform((email) => email.trim()),
  // NIST SP 800-63B §3.1.1.2: at least 8 characters; a generous maximum keeps hashing bounded.
  password: z.string().min(8, 'password must have at least 8 characters').max(256),
  isAdmin: z.boolean().default(false),
});
export type NewAccount = z.input<typeof newAccountSchema>;

export interface Account {
  id: string;
  email: string;
  isAdmin: boolean;
  disabled: boolean;
}
