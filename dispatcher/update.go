package dispatcher

// Update replaces the current snapshot with the one f builds from it,
// under the writers' lock, so that a concurrent add, remove or reload is
// not lost (dispatcher.add and dispatcher.remove, spec §6.6, §6.7). f's
// snapshot must reuse the States of the current one, as Sets.Add and
// Sets.Remove do: unlike Swap, no Carry runs, so Destinations shared with
// the old snapshot are never written while readers use them. An error
// from f keeps the current snapshot and is returned.
func (st *Store) Update(f func(cur *Sets) (*Sets, error)) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	next, err := f(st.cur.Load())
	if err != nil {
		return err
	}
	if next == nil {
		next = &Sets{}
	}
	st.cur.Store(next)
	changed()
	return nil
}
