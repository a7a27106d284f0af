#!/usr/bin/env node
// tsc emits neither the generated protobuf JavaScript (protocol/, ml/onnx/) nor the dashboard's browser files; copy
// them beside the compiled code (dist/ is what images carry).
import { cpSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
cpSync(join(root, 'protocol', 'generated'), join(root, 'dist', 'protocol', 'generated'), { recursive: true });
cpSync(join(root, 'ml', 'onnx', 'generated'), join(root, 'dist', 'ml', 'onnx', 'generated'), { recursive: true });
cpSync(join(root, 'dashboard', 'static'), join(root, 'dist', 'dashboard', 'static'), { recursive: true });
