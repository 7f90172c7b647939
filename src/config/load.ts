import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { type Config, ConfigSchema } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ENV_PREFIX = 'STOREPULSE_';
const DEFAULT_FILES = ['storepulse.yaml', 'storepulse.yml', 'storepulse.json'];

/** camelCase path → env name: server.bodyLimitBytes → STOREPULSE_SERVER__BODY_LIMIT_BYTES */
export function envName(path: string[]): string {
  return ENV_PREFIX + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

interface Leaf {
  path: string[];
  schema: TSchema;
}

/** Every scalar/array leaf of the schema, for env overrides and --help. */
export function configLeaves(schema: TSchema = ConfigSchema, path: string[] = []): Leaf[] {
  if (schema.type === 'object' && schema.properties) {
    return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([k, s]) =>
      configLeaves(s, [...path, k]),
    );
  }
  return [{ path, schema }];
}

function coerceEnv(raw: string, schema: TSchema): unknown {
  if (schema.type === 'integer' || schema.type === 'number')
    return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (schema.type === 'boolean')
    return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
  if (schema.type === 'array')
    return raw.trim().startsWith('[') ? JSON.parse(raw) : raw.split(',').map((s) => s.trim());
  return raw;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]] = value;
}

function describeField(path: string): string {
  const leaf = configLeaves().find((l) => l.path.join('.') === path);
  return leaf?.schema.description ? ` (${leaf.schema.description})` : '';
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  overrides?: Record<string, unknown>;
}

/**
 * Reads the config file (YAML or JSON), applies STOREPULSE_* environment overrides and
 * explicit overrides (CLI flags), fills defaults and validates. Throws ConfigError naming
 * the field and the fix. After this, code receives typed values and never reads process.env.
 */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const file =
    opts.file ??
    env.STOREPULSE_CONFIG ??
    DEFAULT_FILES.map((f) => resolve(cwd, f)).find((f) => existsSync(f));

  let raw: Record<string, unknown> = {};
  if (file) {
    const path = resolve(cwd, file);
    if (!existsSync(path))
      throw new ConfigError(`config file ${path} does not exist; create it or drop --config`);
    try {
      const text = readFileSync(path, 'utf8');
      raw = (path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) ?? {};
    } catch (err) {
      throw new ConfigError(
        `config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
      );
    }
    if (typeof raw !== 'object' || Array.isArray(raw))
      throw new ConfigError(`config file ${path} must hold a mapping of settings`);
  }

  for (const leaf of configLeaves()) {
    const name = envName(leaf.path);
    const value = env[name];
    if (value === undefined || leaf.path[0] === 'sites') continue;
    try {
      setPath(raw, leaf.path, coerceEnv(value, leaf.schema));
    } catch {
      throw new ConfigError(
        `${name}: could not parse "${value}"; give a JSON array or a comma-separated list`,
      );
    }
  }
  for (const [path, value] of Object.entries(opts.overrides ?? {})) {
    if (value !== undefined) setPath(raw, path.split('.'), value);
  }

  const withDefaults = Value.Default(ConfigSchema, raw);
  const errors = [...Value.Errors(ConfigSchema, withDefaults)];
  if (errors.length > 0) {
    const lines = errors.slice(0, 5).map((e) => {
      const field = e.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
      if (e.message.includes('Unexpected property')) {
        return `- ${field}: unknown setting; remove it or check its spelling (see storepulse serve --help)`;
      }
      return `- ${field}: ${e.message}, got ${JSON.stringify(e.value)}${describeField(field)}`;
    });
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}:\n${lines.join('\n')}`);
  }
  const config = withDefaults as Config;
  config.dataDir = resolve(cwd, config.dataDir);
  return config;
}

/** Lines for `storepulse serve --help`: every setting with its env name and default. */
export function configHelp(): string {
  return configLeaves()
    .filter((l) => l.path[0] !== 'sites')
    .map((l) => {
      const def = l.schema.default !== undefined ? ` (default ${JSON.stringify(l.schema.default)})` : '';
      return `  ${l.path.join('.').padEnd(26)} ${envName(l.path).padEnd(40)} ${l.schema.description ?? ''}${def}`;
    })
    .join('\n');
}
