// Type probes of the auto-imports (never run): a type that collapses to `any` leaves the
// expected error below it unmet, which fails the typecheck.
export function probes(): void {
  const store = useRealtimeStore()
  // @ts-expect-error the store has no such member
  void store.notAMember
  const channel = useChannel<{ text: string }>('room:probe')
  // @ts-expect-error publish takes the channel's message type
  void channel.publish({ txt: 'x' })
  const socket = useRealtimeSocket<string>(useRealtimeUrl())
  // @ts-expect-error status is a readonly ref
  socket.status.value = 'open'
}
