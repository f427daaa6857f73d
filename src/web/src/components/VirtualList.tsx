import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

interface Props {
  count: number;
  rowHeight: number;
  /** Renders row `index`; only visible rows (plus overscan) are ever rendered. */
  renderRow: (index: number, selected: boolean) => ReactNode;
  /** The visible range changed (to load pages on demand). */
  onRange?: (start: number, end: number) => void;
  onOpen?: (index: number) => void;
  label: string;
  overscan?: number;
}

/**
 * A windowed list: a tall spacer with absolutely positioned visible rows, so 100k rows cost as
 * much as 30. Keyboard: arrows, Page Up/Down, Home/End move the selection; Enter opens.
 */
export function VirtualList({ count, rowHeight, renderRow, onRange, onOpen, label, overscan = 8 }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const [selected, setSelected] = useState(-1);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan);

  useEffect(() => {
    onRange?.(first, last);
  }, [first, last, onRange]);

  const select = (i: number) => {
    const idx = Math.max(0, Math.min(count - 1, i));
    setSelected(idx);
    const el = ref.current;
    if (!el) return;
    const top = idx * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + el.clientHeight)
      el.scrollTop = top + rowHeight - el.clientHeight;
  };

  const onKey = (e: KeyboardEvent) => {
    const page = Math.max(1, Math.floor(height / rowHeight) - 1);
    const moves: Record<string, number> = {
      ArrowDown: selected + 1,
      ArrowUp: selected - 1,
      PageDown: selected + page,
      PageUp: selected - page,
      Home: 0,
      End: count - 1,
    };
    if (e.key in moves) {
      e.preventDefault();
      select(moves[e.key]);
    } else if (e.key === 'Enter' && selected >= 0) {
      e.preventDefault();
      onOpen?.(selected);
    }
  };

  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div
        key={i}
        id={`vrow-${i}`}
        role="option"
        aria-selected={i === selected}
        className={`vrow${i === selected ? ' selected' : ''}`}
        style={{ top: i * rowHeight, height: rowHeight }}
        onClick={() => {
          setSelected(i);
          onOpen?.(i);
        }}
      >
        {renderRow(i, i === selected)}
      </div>,
    );
  }

  return (
    <div
      ref={ref}
      className="vlist"
      role="listbox"
      aria-label={label}
      tabIndex={0}
      aria-activedescendant={selected >= 0 ? `vrow-${selected}` : undefined}
      onKeyDown={onKey}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      // as tall as its rows (three at least) up to the window's height: a short list is no tall empty box
      style={{ height: `min(${Math.max(3, count) * rowHeight + 2}px, max(300px, calc(100vh - 240px)))` }}
    >
      <div style={{ height: count * rowHeight, position: 'relative' }}>{rows}</div>
    </div>
  );
}
