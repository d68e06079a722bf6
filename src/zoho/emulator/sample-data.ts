/**
 * The emulator's CRM sample data (read-only): a handful of leads of the Zylker org, the metadata of
 * their fields, and the org's module list.
 */

export interface SampleLead {
  id: string;
  First_Name: string;
  Last_Name: string;
  Email: string;
  Company: string;
  Phone: string;
  Lead_Source: string;
  Lead_Status: string;
  Created_Time: string;
}

export const SAMPLE_LEADS: readonly Readonly<SampleLead>[] = Object.freeze([
  {
    id: '4876876000000333001',
    First_Name: 'Christopher',
    Last_Name: 'Maclead',
    Email: 'christopher-maclead@noemail.invalid',
    Company: 'Rangoni Of Florence',
    Phone: '555-555-5555',
    Lead_Source: 'Advertisement',
    Lead_Status: 'Contacted',
    Created_Time: '2025-01-06T10:15:00-08:00',
  },
  {
    id: '4876876000000333002',
    First_Name: 'Carissa',
    Last_Name: 'Kidman',
    Email: 'carissa-kidman@noemail.invalid',
    Company: 'Oh My Goodknits Inc',
    Phone: '555-555-5556',
    Lead_Source: 'Web Download',
    Lead_Status: 'Not Contacted',
    Created_Time: '2025-01-07T09:02:00-08:00',
  },
  {
    id: '4876876000000333003',
    First_Name: 'James',
    Last_Name: 'Merced',
    Email: 'james-merced@noemail.invalid',
    Company: 'Kwik Kopy Printing',
    Phone: '555-555-5557',
    Lead_Source: 'Trade Show',
    Lead_Status: 'Attempted to Contact',
    Created_Time: '2025-01-08T14:40:00-08:00',
  },
  {
    id: '4876876000000333004',
    First_Name: 'Tresa',
    Last_Name: 'Sweely',
    Email: 'tresa-sweely@noemail.invalid',
    Company: 'Morlong Associates',
    Phone: '555-555-5558',
    Lead_Source: 'Cold Call',
    Lead_Status: 'Contact in Future',
    Created_Time: '2025-01-09T11:25:00-08:00',
  },
  {
    id: '4876876000000333005',
    First_Name: 'Felix',
    Last_Name: 'Hirpara',
    Email: 'felix-hirpara@noemail.invalid',
    Company: 'Chapman',
    Phone: '555-555-5559',
    Lead_Source: 'Partner',
    Lead_Status: 'Pre-Qualified',
    Created_Time: '2025-01-10T16:05:00-08:00',
  },
]);

/**
 * A field of a sample module, as GET /crm/vN/settings/fields describes it (Zoho's v8
 * `FieldSchema`). Only what differs between fields is listed here; settings-routes.ts fills the
 * rest of Zoho's shape. Ids, column names and UI types are the emulator org's own.
 */
export interface SampleField {
  id: string;
  api_name: string;
  field_label: string;
  data_type: 'ownerlookup' | 'text' | 'email' | 'phone' | 'picklist' | 'datetime' | 'bigint';
  json_type: 'jsonobject' | 'string';
  length: number;
  column_name: string;
  ui_type: number;
  /** Zoho refuses a record without it (`system_mandatory`). */
  mandatory?: boolean;
  /** Filled in by Zoho, never by a user (`field_read_only` and `read_only`). */
  systemField?: boolean;
  /** Never editable in the field's own form (`field_read_only`), though set elsewhere (the owner). */
  fieldReadOnly?: boolean;
  /** Shown in the record view (`view_type.view`); default true. */
  viewable?: boolean;
  /** Position in the quick-create form (`quick_sequence_number`), when the field is on it. */
  quickCreate?: string;
  /** Display values of a picklist, in order (Zoho puts "-None-" first). */
  picklist?: readonly string[];
  /** The numeric id of the first picklist value; the next values count up. */
  picklistIdBase?: number;
  /** Where lead conversion copies the value (`convert_mapping`). */
  convertTo?: Readonly<{ Contacts?: string; Deals?: string; Accounts?: string }>;
  massUpdate?: boolean;
  businessCard?: boolean;
  customizable: readonly string[];
}

const LEAD_SOURCES = Object.freeze([
  '-None-',
  'Advertisement',
  'Cold Call',
  'Employee Referral',
  'External Referral',
  'Online Store',
  'Partner',
  'Public Relations',
  'Sales Email Alias',
  'Seminar Partner',
  'Internal Seminar',
  'Trade Show',
  'Web Download',
  'Web Research',
  'Chat',
]);

const LEAD_STATUSES = Object.freeze([
  '-None-',
  'Attempted to Contact',
  'Contact in Future',
  'Contacted',
  'Junk Lead',
  'Lost Lead',
  'Not Contacted',
  'Pre-Qualified',
  'Not Qualified',
]);

const EDITABLE = Object.freeze(['mandatory', 'removal', 'private_field', 'tooltip', 'hipaa_field', 'add_to_other_layouts']);

/** The fields of the Leads module: every field a sample lead record carries. */
export const SAMPLE_LEAD_FIELDS: readonly Readonly<SampleField>[] = Object.freeze([
  {
    id: '4876876000000000553',
    api_name: 'Owner',
    field_label: 'Lead Owner',
    data_type: 'ownerlookup',
    json_type: 'jsonobject',
    length: 120,
    column_name: 'SMOWNERID',
    ui_type: 8,
    fieldReadOnly: true,
    businessCard: true,
    customizable: ['field_of_lookup'],
  },
  {
    id: '4876876000000000555',
    api_name: 'Company',
    field_label: 'Company',
    data_type: 'text',
    json_type: 'string',
    length: 200,
    column_name: 'COMPANY',
    ui_type: 1,
    quickCreate: '1',
    convertTo: { Accounts: 'Account_Name' },
    massUpdate: true,
    customizable: EDITABLE,
  },
  {
    id: '4876876000000000557',
    api_name: 'First_Name',
    field_label: 'First Name',
    data_type: 'text',
    json_type: 'string',
    length: 40,
    column_name: 'FIRSTNAME',
    ui_type: 27,
    viewable: false,
    quickCreate: '2',
    convertTo: { Contacts: 'First_Name' },
    customizable: ['mandatory', 'removal', 'add_to_other_layouts'],
  },
  {
    id: '4876876000000000559',
    api_name: 'Last_Name',
    field_label: 'Last Name',
    data_type: 'text',
    json_type: 'string',
    length: 80,
    column_name: 'LASTNAME',
    ui_type: 127,
    mandatory: true,
    viewable: false,
    quickCreate: '3',
    convertTo: { Contacts: 'Last_Name' },
    customizable: ['tooltip', 'add_to_other_layouts'],
  },
  {
    id: '4876876000000000561',
    api_name: 'Full_Name',
    field_label: 'Lead Name',
    data_type: 'text',
    json_type: 'string',
    length: 120,
    column_name: 'FULLNAME',
    ui_type: 1,
    systemField: true,
    businessCard: true,
    customizable: [],
  },
  {
    id: '4876876000000000563',
    api_name: 'Email',
    field_label: 'Email',
    data_type: 'email',
    json_type: 'string',
    length: 100,
    column_name: 'EMAIL',
    ui_type: 25,
    quickCreate: '4',
    convertTo: { Contacts: 'Email' },
    businessCard: true,
    customizable: EDITABLE,
  },
  {
    id: '4876876000000000565',
    api_name: 'Phone',
    field_label: 'Phone',
    data_type: 'phone',
    json_type: 'string',
    length: 30,
    column_name: 'PHONE',
    ui_type: 33,
    quickCreate: '5',
    convertTo: { Contacts: 'Phone', Accounts: 'Phone' },
    businessCard: true,
    customizable: EDITABLE,
  },
  {
    id: '4876876000000000573',
    api_name: 'Lead_Source',
    field_label: 'Lead Source',
    data_type: 'picklist',
    json_type: 'string',
    length: 120,
    column_name: 'LEADSOURCE',
    ui_type: 2,
    picklist: LEAD_SOURCES,
    picklistIdBase: 2313,
    convertTo: { Contacts: 'Lead_Source', Deals: 'Lead_Source' },
    massUpdate: true,
    customizable: EDITABLE,
  },
  {
    id: '4876876000000000575',
    api_name: 'Lead_Status',
    field_label: 'Lead Status',
    data_type: 'picklist',
    json_type: 'string',
    length: 120,
    column_name: 'STATUS',
    ui_type: 2,
    picklist: LEAD_STATUSES,
    picklistIdBase: 2341,
    massUpdate: true,
    customizable: EDITABLE,
  },
  {
    id: '4876876000000000589',
    api_name: 'Created_Time',
    field_label: 'Created Time',
    data_type: 'datetime',
    json_type: 'string',
    length: 120,
    column_name: 'CREATEDTIME',
    ui_type: 333,
    systemField: true,
    customizable: [],
  },
  {
    id: '4876876000000000591',
    api_name: 'Modified_Time',
    field_label: 'Modified Time',
    data_type: 'datetime',
    json_type: 'string',
    length: 120,
    column_name: 'MODIFIEDTIME',
    ui_type: 333,
    systemField: true,
    customizable: [],
  },
  {
    id: '4876876000000000597',
    api_name: 'id',
    field_label: 'Record Id',
    data_type: 'bigint',
    json_type: 'string',
    length: 19,
    column_name: 'LEADID',
    ui_type: 1,
    systemField: true,
    customizable: [],
  },
]);

/** A module of the emulator org, as GET /crm/vN/settings/modules lists it. */
export interface SampleModule {
  id: string;
  api_name: string;
  module_name: string;
  singular_label: string;
  plural_label: string;
  sequence_number: number;
  /** When the module's layout last changed (ISO 8601 with offset, as Zoho writes it). */
  modified_time: string;
  fields: readonly Readonly<SampleField>[];
}

/** The org's API modules: the ones with records the emulator serves. */
export const SAMPLE_MODULES: readonly Readonly<SampleModule>[] = Object.freeze([
  {
    id: '4876876000000002175',
    api_name: 'Leads',
    module_name: 'Leads',
    singular_label: 'Lead',
    plural_label: 'Leads',
    sequence_number: 2,
    modified_time: '2025-01-05T08:30:00-08:00',
    fields: SAMPLE_LEAD_FIELDS,
  },
]);
