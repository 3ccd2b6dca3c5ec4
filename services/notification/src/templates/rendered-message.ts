/** A template's output: plain text for now (an HTML part can be added per template later). */
export interface RenderedMessage {
  readonly subject: string;
  readonly text: string;
}
