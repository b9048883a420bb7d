// Reference list of French medical specialties (a subset of the nomenclature used by the RPPS
// directory), with French and English labels. Loaded by the migration seed of reference data.
export interface Specialty {
  code: string;
  labelFr: string;
  labelEn: string;
}

export const SPECIALTIES: readonly Specialty[] = [
  { code: 'general_practice', labelFr: 'Médecine générale', labelEn: 'General practice' },
  { code: 'cardiology', labelFr: 'Cardiologie', labelEn: 'Cardiology' },
  { code: 'dermatology', labelFr: 'Dermatologie', labelEn: 'Dermatology' },
  { code: 'gynecology', labelFr: 'Gynécologie médicale', labelEn: 'Gynaecology' },
  { code: 'pediatrics', labelFr: 'Pédiatrie', labelEn: 'Paediatrics' },
  { code: 'ophthalmology', labelFr: 'Ophtalmologie', labelEn: 'Ophthalmology' },
  { code: 'psychiatry', labelFr: 'Psychiatrie', labelEn: 'Psychiatry' },
  { code: 'ent', labelFr: 'Oto-rhino-laryngologie', labelEn: 'Ear, nose and throat' },
  { code: 'rheumatology', labelFr: 'Rhumatologie', labelEn: 'Rheumatology' },
  { code: 'endocrinology', labelFr: 'Endocrinologie', labelEn: 'Endocrinology' },
  { code: 'gastroenterology', labelFr: 'Gastro-entérologie', labelEn: 'Gastroenterology' },
  { code: 'neurology', labelFr: 'Neurologie', labelEn: 'Neurology' },
  { code: 'oncology', labelFr: 'Oncologie médicale', labelEn: 'Medical oncology' },
  { code: 'pulmonology', labelFr: 'Pneumologie', labelEn: 'Pulmonology' },
  { code: 'radiology', labelFr: 'Radiologie', labelEn: 'Radiology' },
  { code: 'urology', labelFr: 'Urologie', labelEn: 'Urology' },
  { code: 'nephrology', labelFr: 'Néphrologie', labelEn: 'Nephrology' },
  { code: 'medical_genetics', labelFr: 'Génétique médicale', labelEn: 'Medical genetics' },
  { code: 'geriatrics', labelFr: 'Gériatrie', labelEn: 'Geriatrics' },
  { code: 'dentistry', labelFr: 'Chirurgie dentaire', labelEn: 'Dentistry' },
  { code: 'midwifery', labelFr: 'Maïeutique (sage-femme)', labelEn: 'Midwifery' },
  { code: 'physiotherapy', labelFr: 'Masso-kinésithérapie', labelEn: 'Physiotherapy' },
];
