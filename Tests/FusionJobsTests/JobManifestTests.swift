import FusionJobs
import NpyIO
import Testing

@Suite struct JobManifestTests {
    @Test func tsvWithoutHeaderUsesTheDefaultOrderRelativeToTheManifest() throws {
        let text = "# a comment\n\na.npy\tb.npy\tout/c.npy\tlen.npy\n/abs/t.npy\t/abs/i.npy\t/abs/o.npy\n"
        let manifest = try JobManifest(text: text, path: "/data/set/jobs.tsv")
        #expect(manifest.jobs.count == 2)
        let first = manifest.jobs[0]
        #expect(first.index == 0 && first.line == 3)
        #expect(first.inputs == InputFiles(text: "/data/set/a.npy", images: "/data/set/b.npy", imageLengths: "/data/set/len.npy"))
        #expect(first.outputs.output == "/data/set/out/c.npy" && first.outputs.attention == nil)
        #expect(manifest.jobs[1].inputs.text == "/abs/t.npy")
        #expect(manifest.jobs[1].line == 4)
    }

    @Test func headerSetsTheColumnOrder() throws {
        let text = "out\ttext_mask\ttext\timages\nfused.npy\tmask.npy\tt.npy\ti.npy\n"
        let job = try #require(try JobManifest(text: text, path: "jobs.tsv").jobs.first)
        #expect(job.inputs == InputFiles(text: "t.npy", images: "i.npy", textMask: "mask.npy"))
        #expect(job.outputs.output == "fused.npy")
    }

    @Test func jsonLines() throws {
        let text = #"{"text": "t.npy", "images": "i.npy", "out": "o.npy", "attention": "a.npy", "image_lengths": null}"#
        let job = try #require(try JobManifest(text: text, path: "-").jobs.first)
        #expect(job.inputs == InputFiles(text: "t.npy", images: "i.npy"))
        #expect(job.outputs.output == "o.npy" && job.outputs.attention == "a.npy")
    }

    /// The problems `JobManifest(text:path:)` throws, as (line, message) pairs.
    private func problems(_ text: String, path: String) -> [String] {
        do {
            _ = try JobManifest(text: text, path: path)
            return []
        } catch let errors as ManifestErrors {
            return errors.problems.map(\.description)
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test func errorsNameTheLine() {
        #expect(problems("# jobs\nt.npy\ti.npy\n", path: "j.tsv") == ["j.tsv:2: missing 'out'"])
        #expect(problems(#"{"txt": "t.npy"}"#, path: "j.jsonl")
                == ["j.jsonl:1: unknown key 'txt' (known: text, images, out, image_lengths, text_mask, text_lengths, attention, batch)"])
        #expect(problems("{nope", path: "-") == ["<stdin>:1: not a JSON object"])
        #expect(problems("t\ti\to\t\tm.npy\tl.npy\n", path: "j.tsv")
                == ["j.tsv:1: give at most one of 'text_lengths' and 'text_mask'"])
        #expect(problems("a\tb\tc\td\te\tf\tg\th\ti\n", path: "j.tsv")
                == ["j.tsv:1: 9 fields, but only 8 columns (text, images, out, image_lengths, text_mask, text_lengths, attention, batch)"])
    }

    @Test func everyProblemIsReportedWithItsLine() {
        let jsonl = """
            {"text": "t.npy", "images": "i.npy", "out": "o1.npy"}
            {"text": "t.npy", "out": "o2.npy"}
            # a comment
            t.npy\ti.npy\to3.npy
            {"batch": "b.npz", "text_mask": "m.npy", "out": "o4.npy"}
            {"batch": "b.npz", "out": "o1.npy"}
            """
        #expect(problems(jsonl, path: "/d/jobs.jsonl") == [
            "/d/jobs.jsonl:2: missing 'images' (or a 'batch' bundle)",
            "/d/jobs.jsonl:4: not a JSON object",
            "/d/jobs.jsonl:5: give either 'batch' or the separate inputs, not both (found 'batch' and 'text_mask')",
            "/d/jobs.jsonl:6: 'out' /d/o1.npy is also written by line 1 ('out'); each output needs its own file",
        ])
        #expect(problems("text,images,out\nt.npy,i.npy,o.npy\nt.npy i.npy o2.npy\nt.npy\n", path: "j.tsv") == [
            "j.tsv:1: expected tab-separated columns (text<TAB>images<TAB>out...), found a comma-separated line",
            "j.tsv:2: expected tab-separated columns (text<TAB>images<TAB>out...), found a comma-separated line",
            "j.tsv:3: expected tab-separated columns (text<TAB>images<TAB>out...), found a space-separated line",
            "j.tsv:4: expected tab-separated columns (text<TAB>images<TAB>out...), found a single field",
        ])
    }

    @Test func aBatchColumnNamesABundle() throws {
        let manifest = try JobManifest(text: "batch\tout\tattention\nb.npz\to.npz\to.npz\n", path: "/d/jobs.tsv")
        let job = try #require(manifest.jobs.first)
        #expect(job.inputs == InputFiles(batch: "/d/b.npz"))
        #expect(job.outputs.output == "/d/o.npz" && job.outputs.attention == "/d/o.npz")
        #expect(job.outputs.sharesArchive && job.outputs.createFolders)
        // Without a header the bundle is the eighth column.
        let plain = try JobManifest(text: "\t\to.npy\t\t\t\t\tb.npz\n", path: "jobs.tsv")
        #expect(plain.jobs.first?.inputs == InputFiles(batch: "b.npz"))
    }

    @Test func shardsPartitionTheJobs() throws {
        let shards = try (0..<3).map { try Shard(parsing: "\($0)/3") }
        for index in 0..<10 {
            #expect(shards.filter { $0.contains(jobIndex: index) }.count == 1)
        }
        #expect(throws: JobError.shard("3/3")) { try Shard(parsing: "3/3") }
        #expect(throws: JobError.shard("1")) { try Shard(parsing: "1") }
        #expect(throws: JobError.shard("-1/2")) { try Shard(parsing: "-1/2") }
    }
}
