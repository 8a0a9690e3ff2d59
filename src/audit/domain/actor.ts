/** Who acted: a person (by token), the controller, an operator in Unleash, or the system. */
export type ActorKind = 'person' | 'controller' | 'operator' | 'system';

export interface Actor {
  name: string;
  kind: ActorKind;
}
