/**
 * Zoho CRM metadata routes (`/crm/vN/settings/...`), the ones the official SDKs call before a
 * record request: `RecordOperations` fetch the module's fields (and, with `autoRefreshFields`, the
 * module list) and cache them. Shapes follow Zoho's v8 API (`FieldSchema`, the modules list).
 * crmRoute has already checked `Authorization: Zoho-oauthtoken ...` and the method (GET/HEAD).
 * - GET settings/fields?module=Leads[&type=used|all|unused] -> `{"fields":[...]}`; `type=unused`:
 *   204 (the org has no unused fields). No `module`: 400 `REQUIRED_PARAM_MISSING`
 *   (`details.param_name: "module"`); a module the org lacks: 400 `INVALID_MODULE`.
 * - GET settings/modules -> `{"modules":[...]}`; with `If-Modified-Since`, only the modules changed
 *   after it, and 304 (no body) when none changed.
 * Module names match case-insensitively, as the record routes do.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendCrmError, sendJson } from './http.js';
import { SAMPLE_MODULES, type SampleField, type SampleModule } from './sample-data.js';
import type { EmulatorUser } from './state.js';

const PROFILES = Object.freeze([
  { name: 'Administrator', id: '4876876000000026011' },
  { name: 'Standard', id: '4876876000000026014' },
]);
const STANDARD_LAYOUT = Object.freeze({ api_name: 'Standard__s', name: 'Standard', id: '4876876000000091055' });

function orgId(n: number): string {
  return `4876876${String(n).padStart(12, '0')}`;
}

function picklistValues(field: SampleField): Record<string, unknown>[] {
  return (field.picklist ?? []).map((value, i) => ({
    display_value: value,
    sequence_number: i + 1,
    reference_value: value,
    colour_code: null,
    actual_value: value,
    id: orgId((field.picklistIdBase ?? 0) + i),
    type: 'used',
  }));
}

/** One field in Zoho's v8 shape (the keys and order of Zoho's own answer). */
export function fieldJson(field: SampleField): Record<string, unknown> {
  const system = field.systemField === true;
  const view = field.viewable ?? true;
  return {
    associated_module: null,
    webhook: true,
    operation_type: { web_update: !system, api_create: !system, web_create: !system, api_update: !system },
    colour_code_enabled_by_system: false,
    field_label: field.field_label,
    tooltip: null,
    display_format_properties: null,
    type: 'used',
    field_read_only: system || field.fieldReadOnly === true,
    customizable_properties: [...field.customizable],
    display_label: field.field_label,
    read_only: system,
    association_details: null,
    businesscard_supported: field.businessCard === true,
    multi_module_lookup: {},
    id: field.id,
    created_time: null,
    filterable: true,
    visible: true,
    profiles: PROFILES.map((p) => ({ permission_type: system ? 'read_only' : 'read_write', ...p })),
    view_type: { view, edit: !system, quick_create: field.quickCreate !== undefined, create: !system },
    separator: false,
    searchable: true,
    history_tracking_enabled: false,
    external: null,
    api_name: field.api_name,
    parent_field: null,
    unique: {},
    enable_colour_code: false,
    child_fields: null,
    pick_list_values: picklistValues(field),
    system_mandatory: field.mandatory === true,
    private: null,
    virtual_field: false,
    json_type: field.json_type,
    crypt: null,
    range: null,
    created_source: 'default',
    display_type: -1,
    ui_type: field.ui_type,
    modified_time: null,
    public: false,
    ...(field.quickCreate === undefined ? {} : { quick_sequence_number: field.quickCreate }),
    email_parser: { fields_update_supported: !system, record_operations_supported: !system },
    currency: {},
    custom_field: false,
    lookup: {},
    hipaa_compliance: null,
    convert_mapping: {
      Contacts: field.convertTo?.Contacts ?? null,
      Deals: field.convertTo?.Deals ?? null,
      Accounts: field.convertTo?.Accounts ?? null,
    },
    address: null,
    rollup_summary: {},
    length: field.length,
    column_name: field.column_name,
    display_field: false,
    pick_list_values_sorted_lexically: false,
    sortable: true,
    layout_associations: [{ ...STANDARD_LAYOUT }],
    global_picklist: null,
    display_format: null,
    history_tracking: null,
    data_type: field.data_type,
    formula: {},
    additional_column: null,
    hipaa_compliance_enabled: false,
    decimal_place: null,
    mass_update: field.massUpdate === true,
    multiselectlookup: {},
    auto_number: {},
  };
}

/** One module in Zoho's v8 list shape. Its last change is credited to the org user asking. */
export function moduleJson(module: SampleModule, user: EmulatorUser): Record<string, unknown> {
  return {
    has_more_profiles: false,
    access_type: 'org_based',
    private_profile: null,
    global_search_supported: true,
    deletable: true,
    description: null,
    creatable: true,
    recycle_bin_on_delete: true,
    modified_time: module.modified_time,
    plural_label: module.plural_label,
    presence_sub_menu: true,
    actual_plural_label: module.plural_label,
    lookupable: true,
    id: module.id,
    isBlueprintSupported: true,
    visibility: 1,
    convertable: true,
    sub_menu_available: true,
    editable: true,
    actual_singular_label: module.singular_label,
    profiles: PROFILES.map((p) => ({ ...p })),
    show_as_tab: true,
    web_link: null,
    sequence_number: module.sequence_number,
    singular_label: module.singular_label,
    viewable: true,
    api_supported: true,
    api_name: module.api_name,
    quick_create: true,
    modified_by: { name: user.name, id: user.id },
    generated_type: 'default',
    feeds_required: false,
    public_fields_configured: false,
    arguments: [],
    module_name: module.module_name,
    profile_count: PROFILES.length,
    business_card_field_limit: 5,
    parent_module: {},
    status: 'visible',
  };
}

function findModule(name: string): Readonly<SampleModule> | undefined {
  const lower = name.toLowerCase();
  return SAMPLE_MODULES.find((m) => m.api_name.toLowerCase() === lower);
}

function fieldsRoute(res: ServerResponse, url: URL): void {
  const name = url.searchParams.get('module');
  if (name === null || name.trim() === '') {
    sendCrmError(res, 400, 'REQUIRED_PARAM_MISSING', 'One of the expected parameter is missing', { param_name: 'module' });
    return;
  }
  const module = findModule(name);
  if (!module) {
    sendCrmError(res, 400, 'INVALID_MODULE', 'the module name given seems to be invalid');
    return;
  }
  if (url.searchParams.get('type') === 'unused') {
    res.writeHead(204).end();
    return;
  }
  sendJson(res, 200, { fields: module.fields.map(fieldJson) });
}

function modulesRoute(req: IncomingMessage, res: ServerResponse, user: EmulatorUser): void {
  const header = req.headers['if-modified-since'];
  const since = header === undefined ? Number.NaN : Date.parse(header);
  const modules = Number.isNaN(since) ? SAMPLE_MODULES : SAMPLE_MODULES.filter((m) => Date.parse(m.modified_time) > since);
  if (modules.length === 0) {
    res.writeHead(304).end();
    return;
  }
  sendJson(res, 200, { modules: modules.map((m) => moduleJson(m, user)) });
}

/**
 * Answers `settings/<parts>` for an authenticated GET; false when the path is not one of these
 * routes (crmRoute then answers 404 as for any unknown path).
 */
export function settingsRoute(req: IncomingMessage, res: ServerResponse, url: URL, parts: readonly string[], user: EmulatorUser): boolean {
  if (parts.length !== 1) return false;
  if (parts[0] === 'fields') {
    fieldsRoute(res, url);
    return true;
  }
  if (parts[0] === 'modules') {
    modulesRoute(req, res, user);
    return true;
  }
  return false;
}
