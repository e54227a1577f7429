/** One page of a listing, with the opaque cursor of the next page when there is one. */
export interface Page<T> {
  items: T[];
  cursor?: string;
}
