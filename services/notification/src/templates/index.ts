import { patientAcknowledgement, type PatientAcknowledgementData } from './patient-acknowledgement.template';
import type { RenderedMessage } from './rendered-message';

export type { RenderedMessage } from './rendered-message';
export type { PalsContact } from './pals';
export type { PatientAcknowledgementData } from './patient-acknowledgement.template';

/** Every template by name, with the data it takes. A new template is a function here and a line below. */
export interface TemplateDataMap {
  'patient-acknowledgement': PatientAcknowledgementData;
}
export type TemplateName = keyof TemplateDataMap;

const templates: { readonly [K in TemplateName]: (data: TemplateDataMap[K]) => RenderedMessage } = {
  'patient-acknowledgement': patientAcknowledgement,
};

export function renderTemplate<K extends TemplateName>(name: K, data: TemplateDataMap[K]): RenderedMessage {
  return templates[name](data);
}
