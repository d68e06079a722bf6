/**
 * The API hosts of Zoho's products per data center. One token (one accounts server) calls all
 * of them when it holds their scopes; each product has its own base URL per DC.
 *
 * Sources (checked against each product's API docs, "API root endpoint" / "Multi DC" pages):
 * - CRM      https://www.zohoapis.com/crm/v8          (sandbox.zohoapis.*, developer.zohoapis.*)
 * - Bigin    https://www.zohoapis.com/bigin/v2
 * - Books    https://www.zohoapis.com/books/v3        (organization_id query parameter)
 * - Inventory https://www.zohoapis.com/inventory/v1   (organization_id query parameter)
 * - Desk     https://desk.zoho.com/api/v1             (orgId header)
 * - Projects https://projectsapi.zoho.com/api/v3      (then /portal/{portal id}/...)
 * - Mail     https://mail.zoho.com/api                (then /accounts/{account id}/...)
 * - Recruit  https://recruit.zoho.com/recruit/v2
 * Other DCs change the top-level domain: `www.zohoapis.<tld>` or `<host>.<Zoho domain of the DC>`
 * (zoho.eu, zoho.in, zoho.com.au, zoho.jp, zoho.com.cn, zohocloud.ca, zoho.sa); see datacenter.ts.
 * A new product is one row here.
 */
import { ZTokenError } from '../errors.js';
import { apiDomainFor, type DataCenter, type Environment, parseDataCenter, parseEnvironment, zohoDomainFor } from './datacenter.js';

export type ZohoProduct = 'crm' | 'bigin' | 'books' | 'inventory' | 'desk' | 'projects' | 'mail' | 'recruit';

interface ProductInfo {
  /** `zohoapis`: on the DC's API domain (`www.zohoapis.<tld>`); else this subdomain of the Zoho domain. */
  host: 'zohoapis' | string;
  basePath: string;
  /** Environments the product has; only CRM has sandbox and developer API hosts. */
  environments: readonly Environment[];
  /** How the product wants the organization id, when it needs one. */
  organization?: { query: string } | { header: string };
}

const PRODUCTS: Readonly<Record<ZohoProduct, ProductInfo>> = {
  crm: { host: 'zohoapis', basePath: '/crm/v8', environments: ['production', 'sandbox', 'developer'] },
  bigin: { host: 'zohoapis', basePath: '/bigin/v2', environments: ['production'] },
  books: { host: 'zohoapis', basePath: '/books/v3', environments: ['production'], organization: { query: 'organization_id' } },
  inventory: {
    host: 'zohoapis',
    basePath: '/inventory/v1',
    environments: ['production'],
    organization: { query: 'organization_id' },
  },
  desk: { host: 'desk', basePath: '/api/v1', environments: ['production'], organization: { header: 'orgId' } },
  projects: { host: 'projectsapi', basePath: '/api/v3', environments: ['production'] },
  mail: { host: 'mail', basePath: '/api', environments: ['production'] },
  recruit: { host: 'recruit', basePath: '/recruit/v2', environments: ['production'] },
};

export const PRODUCTS_LIST = Object.keys(PRODUCTS) as readonly ZohoProduct[];

export function parseProduct(text: unknown): ZohoProduct {
  const name = typeof text === 'string' ? text.trim().toLowerCase() : '';
  if (Object.hasOwn(PRODUCTS, name)) return name as ZohoProduct;
  const shown = typeof text === 'string' ? JSON.stringify(text.slice(0, 40)) : String(text);
  throw new ZTokenError('CONFIG', 'INVALID_PRODUCT', `Unknown Zoho product ${shown}: expected one of ${PRODUCTS_LIST.join(', ')}`);
}

function infoOf(product: ZohoProduct): ProductInfo {
  return PRODUCTS[parseProduct(product)];
}

/** The product's origin in a DC and environment, e.g. `https://desk.zoho.eu`. */
export function productOriginFor(product: ZohoProduct, dc: DataCenter, env: Environment = 'production'): string {
  const info = infoOf(product);
  const environment = parseEnvironment(env);
  if (!info.environments.includes(environment)) {
    throw new ZTokenError(
      'CONFIG',
      'INVALID_ENVIRONMENT',
      `Zoho ${product} has no ${environment} API host (it has: ${info.environments.join(', ')})`,
    );
  }
  return info.host === 'zohoapis' ? apiDomainFor(dc, environment) : `https://${info.host}.${zohoDomainFor(parseDataCenter(dc))}`;
}

/** The API base URL of a product in a DC, e.g. `apiBaseFor('books', 'EU')` = `https://www.zohoapis.eu/books/v3`. */
export function apiBaseFor(product: ZohoProduct, dc: DataCenter, env: Environment = 'production'): string {
  return `${productOriginFor(product, dc, env)}${infoOf(product).basePath}`;
}

/** The base path of a product (`/books/v3`), for a DC whose hosts an override replaces. */
export function productBasePath(product: ZohoProduct): string {
  return infoOf(product).basePath;
}

/** Where the product wants the organization id: a query parameter or a header, or nowhere. */
export function organizationParameterOf(product: ZohoProduct): { query: string } | { header: string } | undefined {
  return infoOf(product).organization;
}

/** Every origin of Zoho API hosts in a DC: each environment's API domain and each product's host. */
export function apiOriginsOf(dc: DataCenter): string[] {
  const origins = new Set<string>();
  for (const product of PRODUCTS_LIST) {
    for (const env of PRODUCTS[product].environments) origins.add(productOriginFor(product, dc, env));
  }
  return [...origins];
}
