#!/usr/bin/env node
// fedsim runs its TypeScript sources directly through tsx: no build step to remember after
// `npm install`. Worker processes are started through this same file.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
