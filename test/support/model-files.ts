import { crc32 } from 'node:zlib';

/**
 * Model files of other frameworks than ONNX, shaped as their tools write them, for format detection
 * (no ML stack needed): a zip as torch.save / torch.jit.save write it, a TFLite flatbuffer head, a
 * safetensors file, a SavedModel tarball.
 */

/** A zip of stored (uncompressed) entries with a central directory, as PyTorch writes its archives. */
export function zipArchive(entries: [name: string, content: Buffer | string][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, raw] of entries) {
    const content = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    const nameBytes = Buffer.from(name);
    const crc = crc32(content);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(content.length, 18);
    local.writeUInt32LE(content.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(content.length, 20);
    central.writeUInt32LE(content.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, content);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + content.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A TorchScript archive (torch.jit.save) of a module named `model`, with a tensor of `tensorBytes`. */
export function torchScriptFile(tensorBytes = 4096): Buffer {
  return zipArchive([
    ['model/data.pkl', Buffer.from('80025d71002e', 'hex')],
    [
      'model/code/__torch__/model.py',
      'class Model(Module):\n  def forward(self, x):\n    return x\n',
    ],
    ['model/constants.pkl', Buffer.from('80025d71002e', 'hex')],
    ['model/data/0', Buffer.alloc(tensorBytes, 7)],
    ['model/version', '3\n'],
  ]);
}

/** A torch.save checkpoint (zip format, PyTorch >= 1.6): entries under `archive/`. */
export function torchSaveFile(): Buffer {
  return zipArchive([
    ['archive/data.pkl', Buffer.from('80027d71002e', 'hex')],
    ['archive/byteorder', 'little'],
    ['archive/data/0', Buffer.alloc(1024, 1)],
    ['archive/version', '3\n'],
  ]);
}

/** The head of a TFLite flatbuffer: root table offset, then the "TFL3" file identifier. */
export function tfliteFile(): Buffer {
  const file = Buffer.alloc(256, 0);
  file.writeUInt32LE(28, 0);
  file.write('TFL3', 4, 'latin1');
  return file;
}

export function safetensorsFile(): Buffer {
  const header = Buffer.from(
    JSON.stringify({ weight: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }),
  );
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, header, Buffer.alloc(16)]);
}

/** A ustar tarball of a SavedModel directory. */
export function savedModelTar(): Buffer {
  const entry = (name: string, content: Buffer) => {
    const header = Buffer.alloc(512, 0);
    header.write(name, 0, 'utf8');
    header.write('0000644\0', 100, 'latin1');
    header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    header.write('ustar\0', 257, 'latin1');
    header.write('00', 263, 'latin1');
    header.write('0', 156, 'latin1');
    const padded = Buffer.alloc(Math.ceil(content.length / 512) * 512);
    content.copy(padded);
    return Buffer.concat([header, padded]);
  };
  return Buffer.concat([
    entry('export/saved_model.pb', Buffer.alloc(700, 3)),
    entry('export/variables/variables.index', Buffer.alloc(40, 4)),
    Buffer.alloc(1024),
  ]);
}
