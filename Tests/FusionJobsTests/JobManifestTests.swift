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
        #expect(first.outputs == OutputFiles(output: "/data/set/out/c.npy"))
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
        #expect(job.outputs == OutputFiles(output: "o.npy", attention: "a.npy"))
    }

    @Test func errorsNameTheLine() {
        #expect(throws: JobError.manifest(path: "j.tsv", line: 2, "missing 'out'")) {
            try JobManifest(text: "# jobs\nt.npy\ti.npy\n", path: "j.tsv")
        }
        #expect(throws: JobError.manifest(path: "j.jsonl", line: 1, "unknown key 'txt' (known: text, images, out, image_lengths, text_mask, text_lengths, attention)")) {
            try JobManifest(text: #"{"txt": "t.npy"}"#, path: "j.jsonl")
        }
        #expect(throws: JobError.manifest(path: "<stdin>", line: 1, "not a JSON object")) {
            try JobManifest(text: "{nope", path: "-")
        }
        #expect(throws: JobError.manifest(path: "j.tsv", line: 1, "give at most one of 'text_lengths' and 'text_mask'")) {
            try JobManifest(text: "t\ti\to\t\tm.npy\tl.npy\n", path: "j.tsv")
        }
        #expect(throws: JobError.manifest(path: "j.tsv", line: 1, "8 fields, but only 7 columns (text, images, out, image_lengths, text_mask, text_lengths, attention)")) {
            try JobManifest(text: "a\tb\tc\td\te\tf\tg\th\n", path: "j.tsv")
        }
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
