/** The parts of nodemailer's MailMessage that the wrapper reads (stable from nodemailer 6.9 to 10.x). */
export interface MailLike {
  data: Record<string, unknown> & { signal?: AbortSignal; envelope?: { from?: unknown } };
  message: {
    getEnvelope(): { from: string | false; to: string[] };
    setEnvelope?(envelope: { from: string | false; to: string[] }): void;
    messageId(): string;
    /** Adds a step that every stream of this message passes through (nodemailer's DKIM hook). */
    processFunc(step: (stream: NodeJS.ReadableStream) => NodeJS.ReadableStream): void;
  };
}

/** The Message-ID nodemailer will send, or undefined when the message cannot say (a broken header). */
export function messageIdOf(mail: MailLike): string | undefined {
  try {
    return mail.message.messageId();
  } catch {
    return undefined;
  }
}
