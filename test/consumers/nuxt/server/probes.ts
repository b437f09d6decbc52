// Type probes of the server auto-imports (never run): see ../probes.ts.
export async function serverProbes(): Promise<void> {
  const server = useRealtimeServer()
  const result = await server.publish('room:probe', { text: 'x' })
  // @ts-expect-error seq is a number when stored
  const seq: string = result.seq
  void seq
  // @ts-expect-error the server has no such member
  void server.notAMember
  // @ts-expect-error historyLimit is a number
  defineRealtimeServerConfig({ historyLimit: 'ten' })
}
