package dev.sluice.connectors.corpus;

import java.io.IOException;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.io.SeekableInputStream;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * Parquet with a text column (FineWeb's layout: {@code text}, {@code id}, …). A split is a byte range of the file
 * and holds the row groups whose midpoint lies in it (parquet-mr's rule, so each row group is in exactly one
 * split). Only the text and id columns are read, a row group at a time: the group's compressed pages of those two
 * columns are in memory while its rows are read, and max_document_bytes is checked on each value as it is decoded.
 * The "line" of a record is its row number in the file. Read through Flink's FileSystem, without Hadoop on the
 * class path.
 */
final class ParquetDocuments implements ShardDocuments {

    private final ShardContext ctx;
    private final ParquetFileReader reader;
    private final MessageType projection;
    private final boolean hasId;
    private final java.util.Iterator<org.apache.parquet.hadoop.metadata.BlockMetaData> groups;
    private final long start;
    private final long length;
    private org.apache.parquet.hadoop.metadata.BlockMetaData group;
    private RecordReader<Group> rows;
    private long rowsLeftInGroup;
    private long rowNo;

    /** The row groups of the file whose midpoint is in [start, start + length). */
    ParquetDocuments(ShardContext ctx, Path path, long start, long length) throws IOException {
        this.ctx = ctx;
        this.start = start;
        this.length = Math.max(1, length);
        this.reader = new ParquetFileReader(new FlinkInputFile(path),
                ParquetReadOptions.builder(new PlainParquetConfiguration()).withRange(start, start + length).build());
        this.groups = reader.getRowGroups().iterator();
        MessageType schema = reader.getFooter().getFileMetaData().getSchema();
        String field = ctx.options().textField();
        if (!schema.containsField(field) || !isString(schema.getType(field))) {
            reader.close();
            throw new IOException("no string column '" + field + "' in Parquet schema " + schema);
        }
        this.hasId = schema.containsField("id") && isString(schema.getType("id"));
        this.projection = hasId
                ? new MessageType(schema.getName(), schema.getType(field), schema.getType("id"))
                : new MessageType(schema.getName(), schema.getType(field));
        reader.setRequestedSchema(projection);
    }

    private static boolean isString(Type t) {
        return t.isPrimitive() && t.asPrimitiveType().getPrimitiveTypeName() == PrimitiveType.PrimitiveTypeName.BINARY;
    }

    @Override
    public CorpusRecord next() throws IOException {
        while (rowsLeftInGroup == 0) {
            PageReadStore pages = reader.readNextRowGroup();
            if (pages == null || !groups.hasNext()) {
                return null;
            }
            group = groups.next();
            rowsLeftInGroup = pages.getRowCount();
            rowNo = group.getRowIndexOffset();
            rows = new ColumnIOFactory().getColumnIO(projection).getRecordReader(pages, new GroupRecordConverter(projection));
        }
        rowsLeftInGroup--;
        rowNo++;
        Group row = rows.read();
        String field = ctx.options().textField();
        if (row.getFieldRepetitionCount(field) == 0) {
            return ctx.rejected(rowNo, "null '" + field + "'");
        }
        byte[] bytes = row.getBinary(field, 0).getBytes();
        if (bytes.length > ctx.options().maxDocumentBytes()) {
            return ctx.tooLarge(rowNo, bytes.length);
        }
        if (bytes.length == 0) {
            return ctx.rejected(rowNo, "empty document");
        }
        Utf8Text text = Utf8Text.decode(bytes, bytes.length);
        String id = hasId && row.getFieldRepetitionCount("id") > 0 ? row.getString("id", 0) : ctx.shard() + ":" + rowNo;
        return ctx.document(rowNo, id, text.text(), text.repaired());
    }

    @Override
    public long position() {
        return rowNo;
    }

    /** Through the current row group's compressed bytes, in proportion to its rows read. */
    @Override
    public double progress() {
        if (group == null) {
            return 0;
        }
        double inGroup = group.getRowCount() == 0 ? 1
                : (double) (rowNo - group.getRowIndexOffset()) / group.getRowCount();
        double at = group.getStartingPos() + inGroup * group.getCompressedSize() - start;
        return Math.min(1, Math.max(0, at / length));
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }

    /** A Parquet InputFile over Flink's FileSystem (seekable streams, any scheme Flink supports). */
    private record FlinkInputFile(Path path) implements InputFile {
        @Override
        public long getLength() throws IOException {
            return path.getFileSystem().getFileStatus(path).getLen();
        }

        @Override
        public SeekableInputStream newStream() throws IOException {
            FileSystem fs = path.getFileSystem();
            FSDataInputStream in = fs.open(path);
            return new DelegatingSeekableInputStream(in) {
                @Override
                public long getPos() throws IOException {
                    return in.getPos();
                }

                @Override
                public void seek(long newPos) throws IOException {
                    in.seek(newPos);
                }
            };
        }
    }
}
