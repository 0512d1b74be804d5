// Stores are opened outside the timed sections; AddDirectory is timed whole
// (walk, map, chunk, hash, encode, pack writes with their fsyncs, RocksDB
// commits). Each ingest run uses a fresh store that is removed afterwards,
// except the last one of each data set, which the read-back runs use.
#include "bench/format/store_measure.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "bench/format/timing.h"
#include "common/digest.h"
#include "format/file_index.h"
#include "store/store.h"

namespace arca::bench {

namespace {

namespace fs = std::filesystem;

Status WriteDataDir(const std::string& dir, const std::string& file_name, const Dataset& data) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return InternalError("mkdir " + dir + ": " + ec.message());
  std::ofstream out(fs::path(dir) / file_name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.bytes.data()), std::streamsize(data.bytes.size()));
  out.close();
  if (!out) return InternalError("cannot write " + dir + "/" + file_name);
  return Status::Ok();
}

format::Metadata BenchMetadata() {
  format::Metadata meta;
  meta.name = "bench/data";
  return meta;
}

struct Ingested {
  std::unique_ptr<store::Store> store;
  store::AddResult result;
  Elapsed elapsed;
};

Result<Ingested> Ingest(const std::string& store_dir, const std::string& src_dir, int threads) {
  std::error_code ec;
  fs::remove_all(store_dir, ec);
  Ingested in;
  ARCA_ASSIGN_OR_RETURN(in.store, store::Store::Open(store_dir));
  Stopwatch sw;
  ARCA_ASSIGN_OR_RETURN(in.result, in.store->AddDirectory(src_dir, BenchMetadata(), "", threads));
  in.elapsed = sw.Read();
  return in;
}

void RemoveStore(Ingested* in) {
  std::string dir = in->store->dir();
  in->store.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

ThreadRates Rates(int threads, double bytes, const std::vector<Elapsed>& runs) {
  std::vector<double> wall, cpu;
  for (const Elapsed& e : runs) {
    wall.push_back(MBps(bytes, e.wall));
    cpu.push_back(MBps(bytes, e.process_cpu));
  }
  return {threads, Median(wall), Median(cpu)};
}

}  // namespace

Result<StoreRow> MeasureStore(const Dataset& data, const std::string& file_name,
                              const std::string& work_dir, int runs,
                              const std::vector<int>& threads_list) {
  StoreRow row;
  row.bytes = data.bytes.size();
  const double bytes = double(row.bytes);
  const std::string src = work_dir + "/src";
  ARCA_RETURN_IF_ERROR(WriteDataDir(src, file_name, data));

  Ingested kept;
  std::vector<double> ingest1, file_sha;
  for (size_t t = 0; t < threads_list.size(); ++t) {
    std::vector<Elapsed> samples;
    for (int r = 0; r < runs; ++r) {
      ARCA_ASSIGN_OR_RETURN(Ingested in, Ingest(work_dir + "/store", src, threads_list[t]));
      samples.push_back(in.elapsed);
      if (threads_list[t] == 1) {
        ingest1.push_back(in.elapsed.wall);
        Stopwatch sw;
        Digest d = Sha256Of(data.view());
        file_sha.push_back(sw.Read().wall);
        if (d != in.result.built.manifest.files.at(0).digest) {
          return InternalError("file digest differs from the manifest's");
        }
      }
      if (t + 1 == threads_list.size() && r + 1 == runs) {
        kept = std::move(in);
      } else {
        RemoveStore(&in);
      }
    }
    row.ingest.push_back(Rates(threads_list[t], bytes, samples));
  }
  row.ingest1_seconds = Median(ingest1);
  row.file_sha_seconds = Median(file_sha);
  row.file_sha_mbps = MBps(bytes, row.file_sha_seconds);
  row.pack_bytes = kept.result.new_pack_bytes;
  row.pack_ratio = bytes / double(row.pack_bytes);

  const format::ManifestFile& mf = kept.result.built.manifest.files.at(0);
  ARCA_ASSIGN_OR_RETURN(format::FileIndex index,
                        format::FileIndex::Parse(AsBytes(kept.result.built.file_indexes.at(0))));
  uint64_t seen = 0;
  auto count = [&seen](ByteView b) {
    seen += b.size();
    return Status::Ok();
  };
  Sha256 file_hash;
  auto hash = [&file_hash, &seen](ByteView b) {
    seen += b.size();
    file_hash.Update(b);
    return Status::Ok();
  };
  // Warm-up pass (page cache, thread-local contexts), checked end to end.
  ARCA_RETURN_IF_ERROR(kept.store->ReadChunks(index.chunks, 1, hash));
  row.verified = seen == row.bytes && file_hash.Finish() == mf.digest;

  for (int threads : threads_list) {
    std::vector<Elapsed> plain, with_sha;
    for (int r = 0; r < runs; ++r) {
      seen = 0;
      Stopwatch sw;
      ARCA_RETURN_IF_ERROR(kept.store->ReadChunks(index.chunks, threads, count));
      plain.push_back(sw.Read());
      seen = 0;
      sw.Restart();
      ARCA_RETURN_IF_ERROR(kept.store->ReadChunks(index.chunks, threads, hash));
      Digest d = file_hash.Finish();
      with_sha.push_back(sw.Read());
      if (seen != row.bytes || d != mf.digest) return DataLossError("read-back differs");
    }
    row.read.push_back(Rates(threads, bytes, plain));
    row.read_sha.push_back(Rates(threads, bytes, with_sha));
  }
  RemoveStore(&kept);
  std::error_code ec;
  fs::remove_all(src, ec);
  return row;
}

Result<V2Row> MeasureV2(const Dataset& v1, const Dataset& v2, const V2Edit& edit,
                        const std::string& work_dir, int runs, int threads) {
  const std::string src1 = work_dir + "/src-v1", src2 = work_dir + "/src-v2";
  ARCA_RETURN_IF_ERROR(WriteDataDir(src1, "model.bin", v1));
  ARCA_RETURN_IF_ERROR(WriteDataDir(src2, "model.bin", v2));
  V2Row row;
  row.ideal_bytes = edit.ideal_new_bytes();
  std::vector<Elapsed> samples;
  for (int r = 0; r < runs; ++r) {
    ARCA_ASSIGN_OR_RETURN(Ingested in, Ingest(work_dir + "/store-v2", src1, threads));
    Stopwatch sw;
    ARCA_ASSIGN_OR_RETURN(store::AddResult second,
                          in.store->AddDirectory(src2, BenchMetadata(), "", threads));
    samples.push_back(sw.Read());
    const format::BuildStats& s = second.built.stats;
    row.new_raw_bytes = s.new_raw_bytes;
    row.new_stored_bytes = s.new_stored_bytes;
    row.new_chunks = s.new_chunks;
    row.chunks = s.chunks;
    row.new_pack_bytes = second.new_pack_bytes;
    RemoveStore(&in);
  }
  row.ingest = Rates(threads, double(v2.bytes.size()), samples);
  std::error_code ec;
  fs::remove_all(src1, ec);
  fs::remove_all(src2, ec);
  return row;
}

}  // namespace arca::bench
