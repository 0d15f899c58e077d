/**
 * The record (kind `settings`) in which the newest service started on a store announces where it
 * really listens (port 0 picks one), so `sessionkit doctor` on the same store can report and probe it.
 * Its own module so that the CLI reads it without loading the HTTP stack.
 *
 * @example const announced = await store.getRecord<ServiceAnnouncement>(SERVICE_RECORD.kind, SERVICE_RECORD.id);
 */
export const SERVICE_RECORD = { kind: 'settings', id: 'service-listening' } as const;

/** What a running service records about itself: the URL it listens on, and which process it is. */
export interface ServiceAnnouncement {
  url: string;
  pid: number;
  hostname: string;
  startedAt: number;
}
