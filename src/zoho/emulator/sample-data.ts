/** The emulator's CRM sample records (read-only): a handful of leads of the Zylker org. */

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
