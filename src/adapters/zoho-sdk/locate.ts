/**
 * Which official SDK the application runs, and its classes:
 * - `resolveFrom` (a file, directory or URL inside the application; default `process.cwd()`,
 *   never this package's own location, whose dev copy would fail the SDK's instanceof checks):
 *   every family's real package name is resolved from there, and exactly one must be installed
 *   (or the one `family` names);
 * - `sdk` (the module itself): placed through require's cache (its file tells the package), or,
 *   for an ESM namespace, recognised by its classes and Constants.
 * ESM families load with require(esm) (Node >= 20.19) in the synchronous path, import() in the async one.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TokenStoreError } from '../../errors.js';
import { SDK_FAMILIES } from './families/index.js';
import type { SdkFamily, ZohoSdkFamilyName } from './families/types.js';
import { classesOf, hasShape, type ModuleLoader, type SdkClasses } from './sdk-classes.js';

export interface LocateOptions {
  resolveFrom?: string | URL;
  sdk?: unknown;
  family?: ZohoSdkFamilyName;
}

/** An installed SDK package, found but not loaded yet. */
interface Installed {
  family: SdkFamily;
  root: string;
  entry: string;
  version: string;
  require: NodeJS.Require;
}

const byEntry = new Map<string, SdkClasses>();
const byModule = new WeakMap<object, SdkClasses>();

/** A require() that resolves as a module at `resolveFrom` would; a directory means a file inside it. */
function requireAt(resolveFrom: string | URL | undefined): { require: NodeJS.Require; where: string } {
  let path: string;
  if (resolveFrom === undefined) path = join(process.cwd(), 'noop.js');
  else if (resolveFrom instanceof URL || resolveFrom.startsWith('file:')) path = fileURLToPath(resolveFrom);
  else path = resolveFrom;
  if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'noop.js');
  return { require: createRequire(path), where: dirname(path) };
}

function readPackage(file: string): { name?: unknown; version?: unknown } {
  return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
}

function majorOf(version: string): number {
  return Number.parseInt(version, 10);
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
}

function installedAt(require: NodeJS.Require, families: readonly SdkFamily[]): { found: Installed[]; tooOld: string[] } {
  const found: Installed[] = [];
  const tooOld: string[] = [];
  for (const family of families) {
    let manifest: string;
    try {
      manifest = require.resolve(`${family.packageName}/package.json`);
    } catch (error) {
      if (isNotFound(error)) continue;
      throw error;
    }
    const version = String(readPackage(manifest).version ?? 'unknown');
    if (majorOf(version) < family.minMajor) {
      tooOld.push(`${family.packageName}@${version}`);
      continue;
    }
    found.push({ family, root: dirname(manifest), entry: require.resolve(family.packageName), version, require });
  }
  return { found, tooOld };
}

function install(families: readonly SdkFamily[]): string {
  return families.map((f) => f.packageName).join(', ');
}

/** The one installed SDK (or the named family's), else an error that names the package(s) to install. */
function findInstalled(options: LocateOptions): Installed {
  const wanted = options.family === undefined ? SDK_FAMILIES : SDK_FAMILIES.filter((f) => f.name === options.family);
  if (wanted.length === 0) {
    throw new TokenStoreError(
      'INVALID_ARGUMENT',
      `zohoSdkStore: unknown family ${JSON.stringify(options.family)}; known: ${SDK_FAMILIES.map((f) => f.name).join(', ')}`,
    );
  }
  const { require, where } = requireAt(options.resolveFrom);
  const { found, tooOld } = installedAt(require, wanted);
  if (found.length === 1 && found[0]) return found[0];
  if (found.length > 1) {
    throw new TokenStoreError(
      'INVALID_ARGUMENT',
      `zohoSdkStore found several official Zoho SDKs from ${where} (${found.map((f) => `${f.family.packageName}@${f.version}`).join(', ')}): ` +
        `pass { family: '${found[0]?.family.name}' } (one of ${found.map((f) => f.family.name).join(', ')}) or { sdk } to choose`,
    );
  }
  const old = tooOld.length > 0 ? ` (${tooOld.join(', ')} is a different, older SDK and is not supported)` : '';
  const hint =
    wanted.length === 1 ? `npm install ${wanted[0]?.packageName}` : `npm install the one your application uses: ${install(wanted)}`;
  throw new TokenStoreError(
    'UNAVAILABLE',
    `zohoSdkStore needs an official Zoho CRM SDK, and none is installed where ${where} resolves${old}: ${hint}`,
  );
}

function loaderOf(installed: Installed, main: unknown): ModuleLoader {
  return (file) => (file === '' ? main : installed.require(join(installed.root, file)));
}

function requireMain(installed: Installed): unknown {
  try {
    return installed.require(installed.entry);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_REQUIRE_ESM' || (error as { code?: string }).code === 'ERR_REQUIRE_ASYNC_MODULE') {
      throw new TokenStoreError(
        'UNAVAILABLE',
        `${installed.family.packageName} is an ES module that this Node.js cannot require(): use await zohoSdkStoreAsync(store, options)`,
        { cause: error },
      );
    }
    throw error;
  }
}

function cached(installed: Installed, load: () => SdkClasses): SdkClasses {
  const key = `${installed.family.name}\u0000${installed.entry}`;
  const hit = byEntry.get(key);
  if (hit) return hit;
  const classes = load();
  byEntry.set(key, classes);
  return classes;
}

/** The classes of the SDK the options designate, synchronously. */
export function locateSdk(options: LocateOptions): SdkClasses {
  if (options.sdk !== undefined) return fromModule(options.sdk, options.family);
  const installed = findInstalled(options);
  return cached(installed, () =>
    classesOf(installed.family, loaderOf(installed, requireMain(installed)), installed.version, installed.root),
  );
}

/** The same, loading ESM families with import(). */
export async function locateSdkAsync(options: LocateOptions): Promise<SdkClasses> {
  if (options.sdk !== undefined) return fromModule(options.sdk, options.family);
  const installed = findInstalled(options);
  if (installed.family.module === 'cjs') return locateSdk(options);
  const key = `${installed.family.name}\u0000${installed.entry}`;
  const hit = byEntry.get(key);
  if (hit) return hit;
  const main: unknown = await import(pathToFileURL(installed.entry).href);
  return cached(installed, () => classesOf(installed.family, loaderOf(installed, main), installed.version, installed.root));
}

// ---------------------------------------------------------------------------------------------
// A module handed in as { sdk }

/** The file require() loaded `sdk` from (a CommonJS module, or an ESM namespace of one), if any. */
function fileOfModule(sdk: object): string | undefined {
  const candidates = [sdk, (sdk as { default?: unknown }).default];
  const cache = createRequire(import.meta.url).cache;
  for (const module of Object.values(cache)) {
    if (module && candidates.includes(module.exports)) return module.filename;
  }
  return undefined;
}

/** The family whose package holds `file`: the nearest package.json up the tree with a family's name. */
function packageOfFile(file: string): { family: SdkFamily; root: string; version: string } | undefined {
  let dir = dirname(file);
  const top = parse(dir).root;
  while (true) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = readPackage(manifest);
      const family = SDK_FAMILIES.find((f) => f.packageName === name && majorOf(String(version)) >= f.minMajor);
      if (family) return { family, root: dir, version: String(version) };
    }
    if (dir === top) return undefined;
    dir = dirname(dir);
  }
}

/** The CRM API version ("v8") the SDK's Constants name in their URLs. */
function crmApiOf(constants: unknown): string | undefined {
  if (typeof constants !== 'function' && (typeof constants !== 'object' || constants === null)) return undefined;
  for (const value of Object.values(constants as Record<string, unknown>)) {
    for (const text of Array.isArray(value) ? value : [value]) {
      const match = typeof text === 'string' ? /\/crm\/(?:bulk\/)?(v\d+)\//.exec(text) : null;
      if (match) return match[1];
    }
  }
  return undefined;
}

/** The family of a module that require's cache cannot place, by its classes and its Constants. */
function familyOfNamespace(sdk: object): SdkFamily | undefined {
  const constants = (sdk as { Constants?: { SDK_NAME?: unknown } }).Constants;
  return SDK_FAMILIES.find((family) => {
    const fromMain = Object.values(family.classes).every((c) => c.file === '');
    if (!fromMain || family.marker === null) return false;
    const token = (sdk as Record<string, unknown>).OAuthToken;
    if (!hasShape(family, token)) return false;
    const store = family.classes.TokenStore && (sdk as Record<string, Record<string, unknown> | undefined>).TokenStore?.TokenStore;
    if (family.classes.TokenStore && typeof store !== 'function') return false;
    return 'sdkName' in family.marker ? constants?.SDK_NAME === family.marker.sdkName : crmApiOf(constants) === family.marker.crmApi;
  });
}

function fromModule(sdk: unknown, wanted: ZohoSdkFamilyName | undefined): SdkClasses {
  if ((typeof sdk !== 'object' && typeof sdk !== 'function') || sdk === null) {
    throw new TokenStoreError(
      'INVALID_ARGUMENT',
      `zohoSdkStore: { sdk } must be the official SDK's module, got ${sdk === null ? 'null' : typeof sdk}`,
    );
  }
  const hit = byModule.get(sdk);
  if (hit) return check(hit, wanted);
  let classes: SdkClasses | undefined;
  const file = fileOfModule(sdk);
  const placed = file === undefined ? undefined : packageOfFile(file);
  if (file !== undefined && placed !== undefined) {
    const require = createRequire(file);
    classes = classesOf(
      placed.family,
      (f) => (f === '' ? require(placed.root) : require(join(placed.root, f))),
      placed.version,
      placed.root,
    );
  } else {
    const family = familyOfNamespace(sdk);
    if (family) {
      const version = String((sdk as { Constants?: { SDK_VERSION?: unknown } }).Constants?.SDK_VERSION ?? 'unknown');
      classes = classesOf(family, () => sdk, version, `the module given as { sdk }`);
    }
  }
  if (classes === undefined) {
    throw new TokenStoreError(
      'INVALID_ARGUMENT',
      `zohoSdkStore cannot tell which official Zoho SDK the { sdk } module is (${install(SDK_FAMILIES)}): pass { resolveFrom: import.meta.url } instead`,
    );
  }
  byModule.set(sdk, classes);
  return check(classes, wanted);
}

function check(classes: SdkClasses, wanted: ZohoSdkFamilyName | undefined): SdkClasses {
  if (wanted !== undefined && classes.family.name !== wanted) {
    throw new TokenStoreError(
      'INVALID_ARGUMENT',
      `zohoSdkStore: the { sdk } module is ${classes.family.packageName} (${classes.family.name}), not the ${wanted} family asked for`,
    );
  }
  return classes;
}
