import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { normalizeNickname, normalizeRoom } from '../../shared/chat'

const NICKNAME_KEY = 'vue-realtime-chat:nickname'
const ROOM_KEY = 'vue-realtime-chat:room'

function read(key: string): string | null {
  try {
    return sessionStorage.getItem(key)
  } catch {
    return null // storage disabled: the user joins again after a reload
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(key)
    else sessionStorage.setItem(key, value)
  } catch {
    /* storage disabled */
  }
}

/** Who the user is. The nickname is the token: the server checks it on every (re)connect. */
export const useSessionStore = defineStore('session', () => {
  const nickname = ref<string | null>(normalizeNickname(read(NICKNAME_KEY)))
  const firstRoom = ref<string>(normalizeRoom(read(ROOM_KEY)) ?? 'general')
  /** Same-origin: Vite (dev) or the e2e static server proxies `/ws` to the chat server. */
  const url = computed(() => (nickname.value ? `/ws?token=${encodeURIComponent(nickname.value)}` : undefined))

  /** Returns an error sentence, or null once joined. */
  function join(name: string, room: string): string | null {
    const nick = normalizeNickname(name)
    if (!nick) return 'Choose a nickname of 1–24 letters, digits, spaces, "_" or "-".'
    const roomName = normalizeRoom(room || 'general')
    if (!roomName) return 'Room names are 1–32 lowercase letters, digits, "_" or "-".'
    firstRoom.value = roomName
    nickname.value = nick
    write(NICKNAME_KEY, nick)
    write(ROOM_KEY, roomName)
    return null
  }

  function leave(): void {
    nickname.value = null
    write(NICKNAME_KEY, null)
  }

  return { nickname, firstRoom, url, join, leave }
})
