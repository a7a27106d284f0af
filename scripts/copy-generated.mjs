#!/usr/bin/env node
// tsc does not emit the generated protobuf JavaScript; copy it beside the compiled code.
import { cpSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
cpSync(join(root, 'protocol', 'generated'), join(root, 'dist', 'protocol', 'generated'), { recursive: true });
