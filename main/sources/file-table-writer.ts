import { type EncodedTable, type FileRow, FileTable } from './file-table.js';

/** Files a part holds: a few hundred kilobytes to write at once. */
export const PART_ROWS = 16_384;

/**
 * A folder's next table, handed on a part at a time as its files are read (issue 14, row 6): a
 * folder of half a million files was held whole until its host was counted, then copied whole
 * into one database row, about 140 MB at a million accounts.
 */
export class FileTableWriter {
  private part: FileTable;
  private parts = 0;
  private rows = 0;

  /** `put` keeps part number `index`; the encoding it gets is valid only during the call. */
  constructor(
    private readonly put: (part: EncodedTable, index: number) => void,
    private readonly partRows = PART_ROWS,
  ) {
    this.part = FileTable.empty(partRows);
  }

  /** A name is added once: a table with a name twice, in one part or two, is no table. */
  add(name: string, row: FileRow): void {
    this.part.add(name, row);
    if (this.part.size >= this.partRows) this.flush();
  }

  /** Hands on the last part; how many rows there were in all. */
  end(): number {
    this.flush();
    return this.rows;
  }

  private flush(): void {
    if (this.part.size === 0) return;
    this.put(this.part.encode(), this.parts);
    this.parts++;
    this.rows += this.part.size;
    this.part = FileTable.empty(this.partRows);
  }
}
