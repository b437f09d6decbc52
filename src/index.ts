export * from './core/types'
