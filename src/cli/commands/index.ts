import type { Command } from '../command.js';
import { auditCommands } from './audit.js';
import { doctorCommands } from './doctor.js';
import { keyCommands } from './keys.js';
import { serveCommands } from './serve.js';
import { sessionCommands } from './sessions.js';
import { signingKeyCommands } from './signing-keys.js';

/** Every `sessionkit` command, in the order `sessionkit --help` lists them. */
export const commands: Command[] = [...serveCommands, ...keyCommands, ...signingKeyCommands, ...sessionCommands, ...auditCommands, ...doctorCommands];
